// Command switchboard is the one binary: serve, callflow, version.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	_ "github.com/switchboard/switchboard/internal/actions"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "switchboard",
		Short: "A self-hosted telephony call-flow server",
		Long: "Switchboard runs call flows (Kazoo-compatible documents) on real phone calls,\n" +
			"and hands calls to your web server with the Pivot block (TwiML or Kazoo JSON).",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newCallflowCmd(), newDocsCmd(), newExportCmd(), newImportCmd(), newSimulateCmd(), newVersionCmd())
	return root
}

// bindEnvAll gives every flag not set on the command line the value of its
// environment variable, the SWITCHBOARD_* name in parentheses at the end of
// its usage, so a bad value is refused as clearly as a bad flag.
func bindEnvAll(cmd *cobra.Command, args []string) error {
	var errs []error
	for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.InheritedFlags()} {
		fs.VisitAll(func(f *pflag.Flag) {
			name := envName(f.Usage)
			if name == "" || f.Changed {
				return
			}
			if v, ok := os.LookupEnv(name); ok {
				if err := fs.Set(f.Name, v); err != nil {
					errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
				}
			}
		})
	}
	return errors.Join(errs...)
}

// envName finds "(SWITCHBOARD_X)" at the end of a flag's usage.
func envName(usage string) string {
	i := strings.LastIndex(usage, "(SWITCHBOARD_")
	if i < 0 || !strings.HasSuffix(usage, ")") {
		return ""
	}
	return usage[i+1 : len(usage)-1]
}
