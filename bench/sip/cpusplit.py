#!/usr/bin/env python3
# cpusplit.py BINARY PROFILE: where Switchboard's CPU goes, by part.
# Each sample of a CPU profile (bench/sip/run.sh compare with PROFILE=1
# KEEP=1 keeps them) goes to the innermost frame's part: sipgo, our SIP,
# engine+actions, trace (call), store (call log, flows), media, server,
# metrics; the GC's workers, sweeper and assists to GC. Within a part it
# says whether the leaf was a syscall, an allocation, the scheduler or
# plain CPU. --top N adds, per part, the N functions nearest the leaf
# that are not the runtime's or the standard library's (where to look).
# Needs `go tool pprof`.
import collections
import re
import subprocess
import sys

args=sys.argv[1:]
top=0
if len(args) == 4 and args[0] == '--top':
    top=int(args[1]); args=args[2:]
if len(args) != 2:
    sys.exit('usage: cpusplit.py [--top N] BINARY PROFILE')
binp,prof=args
out=subprocess.run(['go','tool','pprof','-traces',binp,prof],capture_output=True,text=True).stdout
blocks=out.split('-----------+-------------------------------------------------------')
b=collections.Counter()
leaves=collections.defaultdict(collections.Counter)
def unit(s):
    m=re.match(r'([\d.]+)(ms|s|us|µs)',s)
    v=float(m.group(1)); u=m.group(2)
    return v*{'s':1,'ms':1e-3,'us':1e-6,'µs':1e-6}[u]
def bucket(frames):
    fs=' | '.join(frames)
    if 'gcBgMarkWorker' in fs or 'runtime.bgsweep' in fs or 'runtime.bgscavenge' in fs or 'gcAssist' in fs or 'runtime.GC' in fs or 'markroot' in fs or 'runtime.gcStart' in fs: return 'GC (background, assists)'
    leaf=frames[0]
    alloc = re.search(r'runtime\.(mallocgc|nextFreeFast|memclrNoHeapPointers|newobject|makeslice|growslice|mcache|mcentral|mheap|allocSpan|refill|heapSetType|nextFree|makemap|newarray|writeHeapBits|spanInlineMarkBits)', leaf)
    sys_ = re.search(r'Syscall6?$|RawSyscall|internal/runtime/syscall', leaf)
    sched = re.search(r'runtime\.(schedule|findRunnable|futex|park_m|gopark|ready|goready|stealWork|runqgrab|mcall|notesleep|notewakeup|netpoll|wakep|startm|stopm|execute|casgstatus|lock2|unlock2|procyield|osyield|usleep|checkTimers|runtimer|goschedIfBusy|resetspinning|injectglist|semasleep|semawakeup|mPark|gosched|runqput|runqget|stackalloc|newproc|gfget|systemstack|morestack|newstack|copystack|goexit)', leaf)
    owner=None
    for f in frames:
        if 'emiago/sipgo' in f: owner='sipgo'; break
        if 'switchboard/internal/sip.' in f: owner='our SIP'; break
        if 'switchboard/internal/engine' in f or 'internal/actions' in f: owner='engine+actions'; break
        if 'switchboard/internal/call' in f: owner='trace (call)'; break
        if 'switchboard/internal/store' in f or 'modernc.org' in f or 'database/sql' in f: owner='store (call log, flows)'; break
        if 'switchboard/internal/media' in f: owner='media'; break
        if 'server_test' in f: owner='bench caller'; break
        if 'switchboard/internal/server' in f: owner='server'; break
        if 'switchboard/internal/metrics' in f or 'prometheus' in f: owner='metrics'; break
    if sys_: kind='syscalls'
    elif alloc: kind='alloc'
    elif sched: kind='sched'
    else: kind='cpu'
    if owner is None:
        if kind=='sched' or 'runtime.schedule' in fs or 'runtime.mstart' in fs: return 'Go scheduler/runtime (no owner)'
        return 'other: '+frames[-1][:50] if kind=='cpu' else 'runtime '+kind+' (no owner)'
    return owner+' / '+kind
for blk in blocks:
    lines=[l for l in blk.strip().splitlines() if l.strip()]
    if not lines: continue
    m=re.match(r'\s*([\d.]+(?:ms|s|us|µs))\s+(.*)',lines[0])
    if not m: continue
    v=unit(m.group(1))
    frames=[m.group(2).strip()]+[l.strip() for l in lines[1:]]
    k=bucket(frames)
    b[k]+=v
    # The part's own function nearest the leaf: what to work on.
    part=k.split(' / ')[0]
    own=next((f for f in frames if re.match(r'[\w.-]+\.\w+/', f)), frames[0])
    leaves[part][re.sub(r'\s.*','',own)]+=v
t=sum(b.values())
agg=collections.Counter()
for k,v in b.items(): agg[k.split(' / ')[0]]+=v
print(f"total samples {t:.2f}s")
for k,v in agg.most_common(): print(f"  {k:35s} {100*v/t:5.1f}%")
print("detail:")
for k,v in b.most_common(25): print(f"  {k:45s} {100*v/t:5.1f}%")
if top:
    for part,_ in agg.most_common():
        print(f"{part} ({100*agg[part]/t:.1f}%): nearest own functions")
        for f,v in leaves[part].most_common(top): print(f"    {100*v/t:5.1f}%  {f}")
