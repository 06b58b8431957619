package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/server"
)

func newSimulateCmd() *cobra.Command {
	var (
		o        sim.SimulateOptions
		dataDir  string
		logLevel string
		at       string
	)
	cmd := &cobra.Command{
		Use:   "simulate --to NUMBER",
		Short: "Run one call through a call flow with a scripted caller and print its trace",
		Long: "Run one call through the same engine as a real call, against the store of\n" +
			"--data-dir, with a scripted caller instead of a phone, and print the call\n" +
			"trace (JSON Lines) on standard output. Webhooks are real HTTP requests.\n\n" +
			"--input values are the caller's answers to each operation that waits for\n" +
			"the caller, in order: \"1234#\" presses those keys, \"\" presses nothing (the\n" +
			"operation times out, in simulated time), \"hangup\" hangs up there.\n" +
			"--dial values are the outcomes of each dial: completed, busy, no-answer,\n" +
			"failed (completed when they run out). --at sets the call's clock, for\n" +
			"time-of-day rules.",
		Example: "  switchboard simulate --to 1000 --input 2 --input \"\" --input hangup",
		Args:    cobra.NoArgs,
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.To == "" {
				return errors.New("--to NUMBER is required")
			}
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return fmt.Errorf("--at %q: want an RFC 3339 time such as 2025-12-25T09:30:00+01:00", at)
				}
				o.At = t
			}
			db := filepath.Join(dataDir, server.DatabaseFile)
			if _, err := os.Stat(db); err != nil {
				return fmt.Errorf("no store at %s (run `switchboard serve --data-dir %s` once first): %w", db, dataDir, err)
			}
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, "text")
			if err != nil {
				return err
			}
			srv, err := server.New(cmd.Context(), server.Config{DataDir: dataDir, NoBootstrap: true, QueueMaxWait: 30 * time.Second}, log)
			if err != nil {
				return err
			}
			defer srv.Close(cmd.Context())
			out := cmd.OutOrStdout()
			_, _, _, err = srv.Simulate(cmd.Context(), o, out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.To, "to", "", "the dialled number")
	f.StringVar(&o.From, "from", "", "the caller's number (default +15555550100)")
	f.StringVar(&o.CallerName, "caller-name", "", "the caller's name")
	f.StringArrayVar(&o.Inputs, "input", nil, "the caller's answer at the next wait: keys, \"\" or hangup (repeatable)")
	f.StringArrayVar(&o.Dials, "dial", nil, "the outcome of the next dial: completed, busy, no-answer, failed (repeatable)")
	f.StringVar(&at, "at", "", "when the call happens, RFC 3339 (2025-12-25T09:30:00+01:00), for time-of-day rules; now by default")
	f.StringVar(&o.AccountID, "account", "", "account whose call flows route the number; the default account when empty (SWITCHBOARD_ACCOUNT)")
	f.StringVar(&dataDir, "data-dir", "./data", "data dir of the store (SWITCHBOARD_DATA_DIR)")
	f.StringVar(&logLevel, "log-level", "warn", "debug, info, warn or error, on standard error (SWITCHBOARD_LOG_LEVEL)")
	return cmd
}
