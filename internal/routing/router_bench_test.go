package routing

import (
	"fmt"
	"math/rand"
	"regexp"
	"testing"
	"time"
)

const benchAccount = "4b31dd1d32ce6d249897c06332375d65"

type benchData struct {
	flows           []testFlow
	exact, national []string // dialled as stored / in national form
	pattern, miss   []string
}

var npas = []string{"415", "212", "646", "312", "617", "206", "303", "512", "702", "305", "404", "213"}

// makeBenchData builds 10,000 flows with 1-2 numbers each (extensions and
// E.164) and 1,000 patterns of telephony shapes, plus numbers to dial.
func makeBenchData() *benchData {
	rng := rand.New(rand.NewSource(2024))
	d := &benchData{}
	used := map[string]bool{}
	did := func() string {
		for {
			var n string
			if rng.Intn(5) == 0 {
				n = fmt.Sprintf("+44207946%04d", rng.Intn(10000))
			} else {
				n = fmt.Sprintf("+1%s%d%02d%04d", npas[rng.Intn(len(npas))], 2+rng.Intn(8), rng.Intn(100), rng.Intn(10000))
			}
			if !used[n] {
				used[n] = true
				return n
			}
		}
	}
	patUsed := map[string]bool{}
	pattern := func(i int) string {
		for {
			var p string
			switch k := rng.Intn(100); {
			case i < 4: // the few with no literal to index by
				p = []string{`^\+?1?(\d{3}555\d{4})$`, `^(\d{5})$`, `^.*(\d{3})#$`, `^(?:[2-9]\d{2}){2}\d{4}$`}[i]
			case k < 40: // a block of DIDs
				p = fmt.Sprintf(`^\+1%s%d%02d(\d{4})$`, npas[rng.Intn(len(npas))], 2+rng.Intn(8), rng.Intn(100))
			case k < 50: // extension ranges
				p = fmt.Sprintf(`^%d%d\d{2}$`, 6+rng.Intn(3), rng.Intn(10))
			case k < 60: // feature codes
				p = fmt.Sprintf([]string{`^\*%02d(\d*)$`, `^\*7%d(\d+)$`, `^#%02d(\d+)$`, `^\*%d(?P<target>\d{3,4})$`}[rng.Intn(4)], rng.Intn(100))
			case k < 75: // international
				p = fmt.Sprintf([]string{`^\+%d(\d{8,11})$`, `^\+44%d%d(\d{8})$`, `^\+(?P<cc>%d)(?P<number>\d{9})$`}[rng.Intn(3)], 30+rng.Intn(60), rng.Intn(10))
			case k < 88: // optional +1, then an area code
				p = fmt.Sprintf(`^\+?1?(%s\d{7})$`, fmt.Sprintf("%d%02d", 2+rng.Intn(8), rng.Intn(100)))
			case k < 94: // dial 9 / 011 for outside
				p = fmt.Sprintf([]string{`^9%d(\d{9})$`, `^011%d(\d+)$`}[rng.Intn(2)], 2+rng.Intn(8))
			default: // unanchored
				p = fmt.Sprintf([]string{`%d%02d(\d{4})$`, `1?8%d%d\d{7}`}[rng.Intn(2)], 2+rng.Intn(8), rng.Intn(100))
			}
			if !patUsed[p] {
				patUsed[p] = true
				return p
			}
		}
	}
	for i := 0; i < 10000; i++ {
		f := testFlow{id: fmt.Sprintf("cf%05d", i)}
		switch i % 3 {
		case 0:
			f.numbers = []string{fmt.Sprintf("%d", 20000+i), did()}
		case 1:
			f.numbers = []string{fmt.Sprintf("%d", 20000+i)}
		default:
			f.numbers = []string{did()}
		}
		if i%10 == 0 {
			f.patterns = []string{pattern(i / 10)}
		}
		d.flows = append(d.flows, f)
	}
	r := New()
	for _, f := range d.flows {
		if err := r.Put(benchAccount, f.id, f.numbers, f.patterns); err != nil {
			panic(err)
		}
		d.exact = append(d.exact, f.numbers...)
		if len(d.national) < 1000 && len(f.numbers[len(f.numbers)-1]) == 12 && f.numbers[len(f.numbers)-1][1] == '1' {
			n := f.numbers[len(f.numbers)-1]
			d.national = append(d.national, fmt.Sprintf("(%s) %s-%s", n[2:5], n[5:8], n[8:]))
		}
	}
	rng.Shuffle(len(d.exact), func(i, j int) { d.exact[i], d.exact[j] = d.exact[j], d.exact[i] })
	d.exact = d.exact[:1000]
	// Numbers only a pattern matches, made from the patterns themselves.
	for _, f := range d.flows {
		for _, p := range f.patterns {
			re := regexp.MustCompile(p)
			for try := 0; try < 50; try++ {
				n := fillPattern(rng, p)
				if m, ok := r.Route(benchAccount, n); ok && m.Pattern != "" && re.MatchString(n) {
					d.pattern = append(d.pattern, n)
					break
				}
			}
		}
	}
	// Numbers nothing matches.
	for len(d.miss) < 1000 {
		var n string
		switch rng.Intn(4) {
		case 0:
			n = fmt.Sprintf("+61%09d", rng.Intn(1e9))
		case 1:
			n = fmt.Sprintf("+1%s%07d", []string{"808", "907"}[rng.Intn(2)], rng.Intn(1e7))
		case 2:
			n = fmt.Sprintf("%d", 9000+rng.Intn(1000))
		default:
			n = fmt.Sprintf("*%d#", rng.Intn(1000))
		}
		if _, ok := r.Route(benchAccount, n); !ok {
			d.miss = append(d.miss, n)
		}
	}
	return d
}

// fillPattern makes a number that probably matches a benchmark pattern.
func fillPattern(rng *rand.Rand, p string) string {
	digit := func(n int) string {
		s := ""
		for i := 0; i < n; i++ {
			s += fmt.Sprint(rng.Intn(10))
		}
		return s
	}
	rep := regexp.MustCompile(`\(\?P<\w+>|\(\?:|\\d\{(\d+)(?:,(\d+))?\}|\\d\+|\\d\*|\\d|\[2-9\]|\\\+\?|1\?|\\\+|\\\*|\^|\$|\(|\)|\.\*|\{2\}`)
	return rep.ReplaceAllStringFunc(p, func(m string) string {
		switch {
		case m == `\+`:
			return "+"
		case m == `\*`:
			return "*"
		case m == `\d`:
			return digit(1)
		case m == `\d+`, m == `\d*`:
			return digit(1 + rng.Intn(4))
		case m == `[2-9]`:
			return fmt.Sprint(2 + rng.Intn(8))
		case m == `\+?`, m == `1?`, m == `.*`:
			return ""
		case m[0] == '\\':
			sub := rep.FindStringSubmatch(m)
			var lo, hi int
			fmt.Sscan(sub[1], &lo)
			hi = lo
			if sub[2] != "" {
				fmt.Sscan(sub[2], &hi)
			}
			return digit(lo + rng.Intn(hi-lo+1))
		}
		return ""
	})
}

var benchOnce struct {
	d *benchData
	r *Router
}

func benchRouter(b *testing.B) (*benchData, *Router) {
	if benchOnce.d == nil {
		benchOnce.d = makeBenchData()
		start := time.Now()
		r := New()
		for _, f := range benchOnce.d.flows {
			if err := r.Put(benchAccount, f.id, f.numbers, f.patterns); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("loaded %d flows, %d patterns in %v", r.Len(), r.accounts[benchAccount].npat, time.Since(start))
		benchOnce.r = r
	}
	return benchOnce.d, benchOnce.r
}

// BenchmarkRoute: one lookup among 10,000 flows and 1,000 patterns.
func BenchmarkRoute(b *testing.B) {
	d, r := benchRouter(b)
	for _, bc := range []struct {
		name    string
		numbers []string
		exact   bool
	}{
		{"exact", d.exact, true},
		{"exact_national", d.national, true},
		{"pattern", d.pattern, false},
		{"miss", d.miss, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if len(bc.numbers) < 100 {
				b.Fatalf("only %d numbers", len(bc.numbers))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m, ok := r.Route(benchAccount, bc.numbers[i%len(bc.numbers)])
				if bc.name != "miss" && (!ok || (m.Pattern == "") != bc.exact) {
					b.Fatalf("%s: %q gave %+v, %v", bc.name, bc.numbers[i%len(bc.numbers)], m, ok)
				}
				i++
			}
		})
	}
}

// BenchmarkRouteParallel: the same lookups from all CPUs (read lock only).
func BenchmarkRouteParallel(b *testing.B) {
	d, r := benchRouter(b)
	all := append(append(append([]string{}, d.exact...), d.pattern...), d.miss...)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.Route(benchAccount, all[i%len(all)])
			i++
		}
	})
}

// BenchmarkLoad: Put 10,000 flows and 1,000 patterns one by one.
func BenchmarkLoad(b *testing.B) {
	d, _ := benchRouter(b)
	b.ReportAllocs()
	for b.Loop() {
		r := New()
		for _, f := range d.flows {
			if err := r.Put(benchAccount, f.id, f.numbers, f.patterns); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPatternsBruteForce is what Kazoo does per lookup: every pattern
// tried in turn. For comparison only.
func BenchmarkPatternsBruteForce(b *testing.B) {
	d, _ := benchRouter(b)
	var res []*regexp.Regexp
	for _, f := range d.flows {
		for _, p := range f.patterns {
			res = append(res, regexp.MustCompile(p))
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n := d.pattern[i%len(d.pattern)]
		for _, re := range res {
			re.FindStringSubmatchIndex(n)
		}
		i++
	}
}
