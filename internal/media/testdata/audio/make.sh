#!/bin/sh
# Makes the small MP3 test files beside this script (tones of our own, made
# with sox and lame; no third-party audio). Run from this directory.
set -eu
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
sox -n -r 44100 -c 1 -b 16 "$t/a.wav" synth 1 sine 1000 vol 0.5
lame --quiet -b 64 --tt "switchboard test tone" --ta switchboard "$t/a.wav" tone-1000hz-44100-mono-id3.mp3
sox -n -r 8000 -c 1 -b 16 "$t/b.wav" synth 1 sine 440 vol 0.5
lame --quiet -b 16 "$t/b.wav" tone-440hz-8000-mono.mp3
sox -n -r 48000 -c 2 -b 16 "$t/c.wav" synth 0.5 sine 700 vol 0.5
lame --quiet -b 64 -m j "$t/c.wav" tone-700hz-48000-stereo.mp3
sox -n -r 22050 -c 1 -b 16 "$t/d.wav" synth 0.5 sine 1500 vol 0.5
lame --quiet -b 32 -t "$t/d.wav" tone-1500hz-22050-mono-notag.mp3
