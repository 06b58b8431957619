package metrics

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// Media is a snapshot of the media layer's counters, read once per scrape.
type Media struct {
	// RTP packets and bytes, received (accepted) and sent, since start.
	PacketsIn, PacketsOut, BytesIn, BytesOut uint64
	// Dropped counts the packets not taken, by reason: "source" (an
	// address the call never named), "late" (behind the jitter buffer),
	// "overflow" (the jitter buffer gave up on a gap), "invalid" (not RTP,
	// a payload type not negotiated, no session).
	Dropped map[string]uint64
	// SendErrors counts the RTP packets of ours the kernel would not send
	// (a full socket buffer, an unreachable address).
	SendErrors uint64
	// Sessions is how many media sessions are open.
	Sessions int
	// PortsInUse and PortsTotal are the RTP port pairs taken and in the
	// range.
	PortsInUse, PortsTotal int
	// Pacing is how late the pacer's 20 ms ticks fired.
	Pacing Histogram
	// PacingWake is how late the pacing thread woke for each tick: Pacing
	// less this is the ticks' own work.
	PacingWake Histogram
	// PacingRealtime says whether the pacing thread runs at real-time
	// priority now (--media-priority; off while the guard has lowered it,
	// or without the permission).
	PacingRealtime bool
	// PacingDemotions counts the times the guard lowered the pacing
	// thread for taking more than its share of a core.
	PacingDemotions uint64
	// PacingSpills counts the ticks the pacing thread finished at normal
	// priority, past its real-time part (--media-priority bounded).
	PacingSpills uint64
	// Cache holds hits and misses of each cache ("prompt", "url", "tts").
	Cache map[string]CacheCounts
}

// CacheCounts are one cache's lookups.
type CacheCounts struct{ Hits, Misses uint64 }

// Histogram is a histogram kept by its owner: Counts[i] observations at
// most Bounds[i] (and above Bounds[i-1]); observations above the last
// bound count only in Count.
type Histogram struct {
	Bounds []float64 // seconds, ascending
	Counts []uint64
	Count  uint64
	Sum    float64 // seconds
}

// SIP is a snapshot of SIP message counts by direction ("in", "out").
type SIP struct {
	// Requests by method and direction.
	Requests []Count
	// Responses by status code and direction.
	Responses []Count
	// Shed is the new calls refused with 503 for load, by reason
	// (max_calls, rate, saturated).
	Shed map[string]uint64
	// SchedLatencyP99 is the Go scheduler's p99 latency over the last
	// 100 ms, in seconds, that --shed-latency goes by; negative when the
	// watch is off (not exported then).
	SchedLatencyP99 float64
	// ShedCap is the rate of new calls the adaptive limit lets in (the
	// limit over the calls' length), 0 while there is none; negative when
	// the watch is off (not exported then).
	ShedCap float64
	// ShedLimit is the adaptive limit on the calls in progress that
	// --shed-latency set, 0 while there is none, and InProgress the calls
	// in progress it counts; both negative when the watch is off (not
	// exported then).
	ShedLimit, InProgress float64
	// InSetup is the calls taken over UDP whose ACK has not come yet, and
	// SetupTime their setup time in seconds over the last window; both
	// negative when the watch is off (not exported then).
	InSetup, SetupTime float64
}

// Count is one labelled counter value: Name is a method or a status code.
type Count struct {
	Name, Direction string
	N               uint64
}

var (
	descPackets   = prometheus.NewDesc(namespace+"_rtp_packets_total", "RTP packets taken in and sent out.", []string{"direction"}, nil)
	descBytes     = prometheus.NewDesc(namespace+"_rtp_bytes_total", "RTP bytes (headers included) taken in and sent out.", []string{"direction"}, nil)
	descDropped   = prometheus.NewDesc(namespace+"_rtp_dropped_total", "RTP packets received and not taken, by reason: source, late, overflow, invalid.", []string{"reason"}, nil)
	descSendErr   = prometheus.NewDesc(namespace+"_rtp_send_errors_total", "RTP packets of ours the kernel would not send (a full socket buffer, an unreachable address).", nil, nil)
	descSessions  = prometheus.NewDesc(namespace+"_media_sessions", "Open media sessions.", nil, nil)
	descPorts     = prometheus.NewDesc(namespace+"_rtp_ports_in_use", "RTP port pairs in use.", nil, nil)
	descPortsMax  = prometheus.NewDesc(namespace+"_rtp_ports_total", "RTP port pairs in the configured range.", nil, nil)
	descPacing    = prometheus.NewDesc(namespace+"_rtp_pacing_lateness_seconds", "How late each 20 ms send tick fired.", nil, nil)
	descWake      = prometheus.NewDesc(namespace+"_rtp_pacing_wake_lateness_seconds", "How late the pacing thread woke for each 20 ms send tick (the pacing lateness less the tick's own work).", nil, nil)
	descRealtime  = prometheus.NewDesc(namespace+"_rtp_pacing_realtime", "1 while the pacing thread runs at real-time priority (--media-priority), 0 otherwise.", nil, nil)
	descDemoted   = prometheus.NewDesc(namespace+"_rtp_pacing_demotions_total", "Times the pacing thread was lowered to normal priority for taking more than its share of a core.", nil, nil)
	descSpilled   = prometheus.NewDesc(namespace+"_rtp_pacing_spills_total", "Send ticks whose end the pacing thread sent at normal priority, past its real-time part of each tick (--media-priority bounded).", nil, nil)
	descCacheHit  = prometheus.NewDesc(namespace+"_media_cache_hits_total", "Media cache lookups that found the audio, by cache: prompt, url, tts.", []string{"cache"}, nil)
	descCacheMiss = prometheus.NewDesc(namespace+"_media_cache_misses_total", "Media cache lookups that had to load, fetch or synthesize.", []string{"cache"}, nil)
	descSIPReq    = prometheus.NewDesc(namespace+"_sip_requests_total", "SIP requests, by method and direction (in, out).", []string{"method", "direction"}, nil)
	descSIPRes    = prometheus.NewDesc(namespace+"_sip_responses_total", "SIP responses, by status code and direction (in, out).", []string{"code", "direction"}, nil)
	descShed      = prometheus.NewDesc(namespace+"_calls_shed_total", "New calls refused with 503 for load, by reason: max_calls, rate, saturated (--shed-latency).", []string{"reason"}, nil)
	descSchedP99  = prometheus.NewDesc(namespace+"_sched_latency_p99_seconds", "The Go scheduler's p99 latency over the last 100 ms, which --shed-latency compares (only when it is set).", nil, nil)
	descShedCap   = prometheus.NewDesc(namespace+"_shed_cap_calls_per_second", "The rate of new calls the adaptive limit on the calls in progress lets in while the process is short of CPU (the limit over the calls' length; calls over the limit get 503); 0 while there is none (only when --shed-latency is set).", nil, nil)
	descShedLimit = prometheus.NewDesc(namespace+"_shed_limit_calls", "The adaptive limit on the calls in progress that --shed-latency learnt while the process is short of CPU (new calls over it get 503); 0 while there is none (only when --shed-latency is set).", nil, nil)
	descInProg    = prometheus.NewDesc(namespace+"_shed_calls_in_progress", "The calls in progress the adaptive limit counts: taken and not yet ended (only when --shed-latency is set).", nil, nil)
	descInSetup   = prometheus.NewDesc(namespace+"_calls_in_setup", "Calls taken over UDP whose INVITE was read and whose ACK has not been yet: a read loop falling behind shows here (only when --shed-latency is set).", nil, nil)
	descSetupTime = prometheus.NewDesc(namespace+"_shed_setup_seconds", "The setup time (INVITE read to ACK read, 90th percentile over the last 100 ms with calls enough, or how long a stalled setup waited) of calls taken over UDP (only when --shed-latency is set).", nil, nil)
)

// mediaCollector reads the media layer once per scrape.
type mediaCollector struct{ read func() Media }

// NewMediaCollector returns a collector that calls read on every scrape:
// the media layer's counters are summed then, never per packet here.
func NewMediaCollector(read func() Media) prometheus.Collector { return mediaCollector{read} }

func (c mediaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPackets, descBytes, descDropped, descSendErr, descSessions, descPorts, descPortsMax, descPacing, descWake, descRealtime, descDemoted, descSpilled, descCacheHit, descCacheMiss} {
		ch <- d
	}
}

func (c mediaCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.read()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descPackets, m.PacketsIn, "in")
	counter(descPackets, m.PacketsOut, "out")
	counter(descBytes, m.BytesIn, "in")
	counter(descBytes, m.BytesOut, "out")
	for _, reason := range sortedKeys(m.Dropped) {
		counter(descDropped, m.Dropped[reason], reason)
	}
	counter(descSendErr, m.SendErrors)
	for _, name := range sortedKeys(m.Cache) {
		counter(descCacheHit, m.Cache[name].Hits, name)
		counter(descCacheMiss, m.Cache[name].Misses, name)
	}
	ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(m.Sessions))
	ch <- prometheus.MustNewConstMetric(descPorts, prometheus.GaugeValue, float64(m.PortsInUse))
	ch <- prometheus.MustNewConstMetric(descPortsMax, prometheus.GaugeValue, float64(m.PortsTotal))
	ch <- m.Pacing.constHistogram(descPacing)
	ch <- m.PacingWake.constHistogram(descWake)
	realtime := 0.0
	if m.PacingRealtime {
		realtime = 1
	}
	ch <- prometheus.MustNewConstMetric(descRealtime, prometheus.GaugeValue, realtime)
	counter(descDemoted, m.PacingDemotions)
	counter(descSpilled, m.PacingSpills)
}

// constHistogram is h as Prometheus wants it: cumulative bucket counts.
func (h Histogram) constHistogram(d *prometheus.Desc) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
		buckets[b] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets)
}

// sipCollector reads the SIP layer's counts once per scrape.
type sipCollector struct{ read func() SIP }

// NewSIPCollector returns a collector that calls read on every scrape.
func NewSIPCollector(read func() SIP) prometheus.Collector { return sipCollector{read} }

func (c sipCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSIPReq
	ch <- descSIPRes
	ch <- descShed
	ch <- descSchedP99
	ch <- descShedCap
	ch <- descShedLimit
	ch <- descInProg
	ch <- descInSetup
	ch <- descSetupTime
}

func (c sipCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.read()
	for _, r := range s.Requests {
		ch <- prometheus.MustNewConstMetric(descSIPReq, prometheus.CounterValue, float64(r.N), r.Name, r.Direction)
	}
	for _, r := range s.Responses {
		ch <- prometheus.MustNewConstMetric(descSIPRes, prometheus.CounterValue, float64(r.N), r.Name, r.Direction)
	}
	for _, reason := range sortedKeys(s.Shed) {
		ch <- prometheus.MustNewConstMetric(descShed, prometheus.CounterValue, float64(s.Shed[reason]), reason)
	}
	if s.SchedLatencyP99 >= 0 {
		ch <- prometheus.MustNewConstMetric(descSchedP99, prometheus.GaugeValue, s.SchedLatencyP99)
	}
	if s.ShedCap >= 0 {
		ch <- prometheus.MustNewConstMetric(descShedCap, prometheus.GaugeValue, s.ShedCap)
	}
	if s.ShedLimit >= 0 {
		ch <- prometheus.MustNewConstMetric(descShedLimit, prometheus.GaugeValue, s.ShedLimit)
	}
	if s.InProgress >= 0 {
		ch <- prometheus.MustNewConstMetric(descInProg, prometheus.GaugeValue, s.InProgress)
	}
	if s.InSetup >= 0 {
		ch <- prometheus.MustNewConstMetric(descInSetup, prometheus.GaugeValue, s.InSetup)
	}
	if s.SetupTime >= 0 {
		ch <- prometheus.MustNewConstMetric(descSetupTime, prometheus.GaugeValue, s.SetupTime)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
