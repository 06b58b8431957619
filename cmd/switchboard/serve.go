package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/internal/egress"
	"github.com/switchboard/switchboard/internal/gctune"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/sip"
)

func newServeCmd() *cobra.Command {
	var (
		cfg       server.Config
		logLevel  string
		logFormat string
		rtpPorts  string
		allow     []string
		priority  string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (SIP, HTTP API and web UI)",
		Long: "Run the server. Every flag also reads an environment variable, named beside it.\n" +
			"On an empty data dir it creates the default account and an admin API key:\n" +
			"the one given with --admin-key, or a generated one printed once.\n\n" +
			"Garbage collection: the server runs with GOGC=400 and a soft memory limit\n" +
			"(GOMEMLIMIT) of half the machine's memory, or of its cgroup's memory.max\n" +
			"when lower. GOGC or GOMEMLIMIT set in the environment is left to Go's\n" +
			"runtime instead (e.g. GOGC=100 for Go's default, GOMEMLIMIT=2GiB).",
		Args:    cobra.NoArgs,
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			sip.SetProcessLogger(log)
			prio, err := media.ParsePriority(priority)
			if err != nil {
				return fmt.Errorf("--media-priority: %w", err)
			}
			// Before the server starts its work: the threads made later
			// inherit the priority from the ones set here.
			media.ApplyPriority(prio, log)
			cfg.Media.Priority = prio
			gc := gctune.Server(os.Getenv)
			log.Debug("garbage collector", "settings", gc.String())
			cfg.API.Version = version
			if err := parsePorts(rtpPorts, &cfg.Media.PortMin, &cfg.Media.PortMax); err != nil {
				return err
			}
			cfg.SIP.Host = cfg.Media.PublicIP
			if cfg.Egress.Allow, err = egress.ParsePrefixes(allow); err != nil {
				return fmt.Errorf("--webhook-allow: %w", err)
			}
			srv, err := server.New(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			if b := srv.Bootstrap(); b.GeneratedKey != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "Created the default account %s.\nIts admin API key (stored hashed, shown only this once):\n\n    %s\n\n", b.AccountID, b.GeneratedKey)
			}
			return srv.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.HTTPAddr, "http-addr", ":8080", "HTTP API and web UI listen address (SWITCHBOARD_HTTP_ADDR)")
	f.StringVar(&cfg.DataDir, "data-dir", "./data", "directory of the database and recordings (SWITCHBOARD_DATA_DIR)")
	f.StringVar(&cfg.AdminKey, "admin-key", "", "admin API key of the default account; generated and printed once when empty (SWITCHBOARD_ADMIN_KEY)")
	f.Int64Var(&cfg.API.MaxBodyBytes, "max-body-bytes", 1<<20, "largest API request body (SWITCHBOARD_MAX_BODY_BYTES)")
	f.Int64Var(&cfg.API.MaxMediaBytes, "max-media-bytes", 16<<20, "largest media audio upload, PUT …/media/{id}/raw (SWITCHBOARD_MAX_MEDIA_BYTES)")
	f.DurationVar(&cfg.API.TokenTTL, "token-ttl", 0, "lifetime of an auth token from PUT /v2/api_auth; 1h when 0 (SWITCHBOARD_TOKEN_TTL)")
	f.StringVar(&cfg.SIP.Addr, "sip-addr", ":5060", "SIP listen address, UDP and TCP on the same port; empty turns SIP off (SWITCHBOARD_SIP_ADDR)")
	f.StringVar(&cfg.SIP.TLSAddr, "sip-tls-addr", "", "SIP over TLS listen address, e.g. :5061; needs --sip-tls-cert and --sip-tls-key (SWITCHBOARD_SIP_TLS_ADDR)")
	f.StringVar(&cfg.SIP.TLSCert, "sip-tls-cert", "", "PEM certificate file for SIP over TLS (SWITCHBOARD_SIP_TLS_CERT)")
	f.StringVar(&cfg.SIP.TLSKey, "sip-tls-key", "", "PEM private key file for SIP over TLS (SWITCHBOARD_SIP_TLS_KEY)")
	f.StringVar(&cfg.Media.PublicIP, "public-ip", "", "address written in SDP and in SIP Contact headers, when not the listen address, e.g. behind NAT (SWITCHBOARD_PUBLIC_IP)")
	f.StringVar(&rtpPorts, "rtp-ports", "10000-20000", "UDP port range for RTP, MIN-MAX (SWITCHBOARD_RTP_PORTS)")
	f.StringSliceVar(&cfg.Trust, "trust", nil, "trusted SIP source, an IP address or CIDR, whose calls belong to the default account; repeatable, comma-separated in the variable (SWITCHBOARD_TRUST)")
	f.StringSliceVar(&allow, "webhook-allow", nil, "network, an IP address or CIDR, that every account's webhooks, <Play> fetches and SIP dials may reach besides public addresses (the default account reaches anything); repeatable, comma-separated in the variable (SWITCHBOARD_WEBHOOK_ALLOW)")
	f.BoolVar(&cfg.Media.LocalPaths, "media-local-paths", false, "let call flows and webhook answers play files by server path (/path, file://); off by default: only stored media ids and http(s) URLs (SWITCHBOARD_MEDIA_LOCAL_PATHS)")
	f.IntVar(&cfg.HTTPLimits.Total, "http-max-conns", 0, "most HTTP connections open at once, beyond which new ones get 503; a quarter of the open-file limit (at most 10000) when 0 (SWITCHBOARD_HTTP_MAX_CONNS)")
	f.IntVar(&cfg.HTTPLimits.PerSource, "http-max-conns-per-source", 0, "most HTTP connections open at once from one IP address; 256 when 0 (SWITCHBOARD_HTTP_MAX_CONNS_PER_SOURCE)")
	f.DurationVar(&cfg.Engine.MaxCallDuration, "max-call-duration", 4*time.Hour, "longest a call may last before Switchboard hangs up (Twilio's 4h) (SWITCHBOARD_MAX_CALL_DURATION)")
	f.DurationVar(&cfg.RecordingURLTTL, "recording-url-ttl", 7*24*time.Hour, "how long the RecordingUrl sent to webhooks works without credentials; HTTP Basic with the AccountSid and auth token works after (SWITCHBOARD_RECORDING_URL_TTL)")
	f.IntVar(&cfg.SIP.MaxCalls, "max-calls", 0, "most inbound calls at once, beyond which new calls get 503 with Retry-After; no limit when 0 (SWITCHBOARD_MAX_CALLS)")
	f.DurationVar(&cfg.SIP.ShedLatency, "shed-latency", sip.DefaultShedLatency, "shed load by itself: while the Go scheduler's p99 latency over the last 100 ms passes this (the process is short of CPU) and the SIP socket holds a standing queue (--shed-queue-delay), the calls in progress (taken, not yet ended) are limited near what the server carries (the limit cut by a tenth of them after two such windows, to 60 % at once past twice this; raised back as the latency clears) and the new inbound calls over the limit get 503 with Retry-After at once; /metrics shows the limit (switchboard_shed_limit_calls), the calls in progress (switchboard_shed_calls_in_progress), the rate the limit lets in (switchboard_shed_cap_calls_per_second), the calls in setup (switchboard_calls_in_setup) and the setup time (switchboard_shed_setup_seconds); 0 turns it off (SWITCHBOARD_SHED_LATENCY)")
	f.DurationVar(&cfg.SIP.ShedQueueDelay, "shed-queue-delay", sip.DefaultShedQueueDelay, "with --shed-latency: the calls in progress are cut only while the SIP UDP socket also holds a standing queue longer than this (the least wait of its datagrams before they are read over the last 100 ms, from the kernel's receive stamps), or while the scheduler's latency alone passes 4 times --shed-latency: a server that is busy but drains its socket keeps up and refuses nothing; the limit is raised while the standing queue stays under half of this and the latency under twice --shed-latency; 0 lets the scheduler's latency judge alone, as before (SWITCHBOARD_SHED_QUEUE_DELAY)")
	f.Float64Var(&cfg.SIP.MaxCallsPerSecond, "max-calls-per-second", 0, "most new inbound calls a second (a burst of as many), beyond which they get 503 with Retry-After as they are read; no limit when 0 (SWITCHBOARD_MAX_CALLS_PER_SECOND)")
	f.DurationVar(&cfg.SIP.MediaTimeout, "media-timeout", 30*time.Second, "hang up an answered call (cause media_timeout) after this long without RTP or RTCP from the caller; negative never (SWITCHBOARD_MEDIA_TIMEOUT)")
	f.DurationVar(&cfg.SIP.MediaHoldTimeout, "media-hold-timeout", time.Hour, "the same while the call is on hold; negative never (SWITCHBOARD_MEDIA_HOLD_TIMEOUT)")
	f.StringVar(&cfg.SIP.Strangers, "sip-strangers", "reject", "what an INVITE from a source of no trunk gets: reject (one stateless 403) or drop (no answer) (SWITCHBOARD_SIP_STRANGERS)")
	f.IntVar(&cfg.SIP.TCPMaxConns, "sip-tcp-max-conns", 0, "most SIP TCP/TLS connections at once; 4096 when 0, no limit when negative (SWITCHBOARD_SIP_TCP_MAX_CONNS)")
	f.IntVar(&cfg.SIP.TCPMaxConnsPerSource, "sip-tcp-max-conns-per-source", 0, "most SIP TCP/TLS connections at once from one IP address; 128 when 0, no limit when negative (SWITCHBOARD_SIP_TCP_MAX_CONNS_PER_SOURCE)")
	f.DurationVar(&cfg.SIP.TCPIdleTimeout, "sip-tcp-idle-timeout", 0, "close a SIP TCP/TLS connection idle this long; 10m when 0 (SWITCHBOARD_SIP_TCP_IDLE_TIMEOUT)")
	f.DurationVar(&cfg.Registrar.KeepAlive, "sip-keepalive", 30*time.Second, "send an OPTIONS this often to each phone registered from behind NAT, keeping its NAT open; a phone that leaves 3 in a row unanswered loses its registration; 0 turns it off (SWITCHBOARD_SIP_KEEPALIVE)")
	f.DurationVar(&cfg.SIP.TCPMessageTimeout, "sip-tcp-message-timeout", 0, "close a SIP TCP/TLS connection whose first message, or the rest of a message, takes longer; 10s when 0 (SWITCHBOARD_SIP_TCP_MESSAGE_TIMEOUT)")
	f.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "serve Prometheus /metrics without a token at this address, e.g. 10.0.0.5:9100 (the API address serves it to an operator token); off when empty (SWITCHBOARD_METRICS_ADDR)")
	f.StringVar(&cfg.DebugAddr, "debug-addr", "", "serve Go's pprof profiles at this loopback address, e.g. 127.0.0.1:6060; off when empty (SWITCHBOARD_DEBUG_ADDR)")
	f.StringVar(&priority, "media-priority", "bounded", "how the media work competes for the CPU with other programs on the same machine: normal (as any other program), pacer (the one thread that sends the 20 ms media ticks runs at real-time priority, SCHED_FIFO 1, so a busy machine does not delay it, and is lowered again for 10 s whenever it takes more than 80% of a core; every other thread as at normal), bounded (the default: as pacer, but real-time for at most the first 250us of each tick's work, a quarter of a core; the rest of a longer tick at normal priority) or high (as pacer, and every thread gets nice -10 and a 1 ms scheduler slice on Linux 6.12+: a server at high that runs out of CPU takes it from the other programs, a database or load generator on the same machine included). Real-time and nice need CAP_SYS_NICE (LimitRTPRIO=1 under systemd is enough for pacer); what cannot be set is logged as a warning and the server runs (SWITCHBOARD_MEDIA_PRIORITY)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error (SWITCHBOARD_LOG_LEVEL)")
	f.StringVar(&logFormat, "log-format", "text", "text or json (SWITCHBOARD_LOG_FORMAT)")
	return cmd
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// parsePorts reads "MIN-MAX" into min and max.
func parsePorts(v string, lo, hi *int) error {
	a, b, ok := strings.Cut(strings.TrimSpace(v), "-")
	if !ok {
		return fmt.Errorf("--rtp-ports %q: want MIN-MAX, e.g. 10000-20000", v)
	}
	mn, err1 := strconv.Atoi(strings.TrimSpace(a))
	mx, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || mn < 1024 || mx > 65535 || mn+1 >= mx {
		return fmt.Errorf("--rtp-ports %q: want MIN-MAX with 1024 <= MIN < MAX <= 65535 and room for a port pair", v)
	}
	*lo, *hi = mn, mx
	return nil
}
