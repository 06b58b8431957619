package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/internal/server"
)

func newServeCmd() *cobra.Command {
	var (
		cfg       server.Config
		logLevel  string
		logFormat string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (HTTP API and web UI)",
		Long: "Run the server. Every flag also reads an environment variable, named beside it.\n" +
			"On an empty data dir it creates the default account and an admin API key:\n" +
			"the one given with --admin-key, or a generated one printed once.",
		Args:    cobra.NoArgs,
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			cfg.API.Version = version
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
	f.DurationVar(&cfg.API.TokenTTL, "token-ttl", 0, "lifetime of an auth token from PUT /v2/api_auth; 1h when 0 (SWITCHBOARD_TOKEN_TTL)")
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
