package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/internal/document"
)

// export and import: an account's documents as a tree of pretty JSON files
// (<kind>/<name>.json), to keep under version control and apply to another
// account or server.

func newExportCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "export DIR",
		Short: "Write every document of an account into DIR, one JSON file per document",
		Long: "Write every document of the account (--account, else the key's own) into DIR:\n" +
			"<kind>/<name>.json, keys sorted, ids kept, no revisions or timestamps, so an\n" +
			"export of the same documents is byte-identical. Hashes of SIP passwords and\n" +
			"PINs are included, so that an import restores the credentials: keep DIR private.",
		Args:    cobra.ExactArgs(1),
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd.Context(), os.Getenv)
			if err != nil {
				return err
			}
			var env struct {
				Data document.Bundle `json:"data"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, c.accountPath("/export"), nil, &env); err != nil {
				return err
			}
			files, err := env.Data.Files()
			if err != nil {
				return err
			}
			names := make([]string, 0, len(files))
			for n := range files {
				names = append(names, n)
			}
			slices.Sort(names)
			for _, n := range names {
				p := filepath.Join(args[0], filepath.FromSlash(n))
				if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
					return fmt.Errorf("export: %w", err)
				}
				if err := os.WriteFile(p, files[n], 0o600); err != nil {
					return fmt.Errorf("export: %w", err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "exported %d documents to %s\n", len(names), args[0])
			return nil
		},
	}
	cf.add(cmd)
	return cmd
}

func newImportCmd() *cobra.Command {
	var (
		cf     clientFlags
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "import DIR",
		Short: "Create or update an account's documents from a tree `switchboard export` wrote",
		Long: "Apply every <kind>/*.json of DIR to the account (--account, else the key's own):\n" +
			"each document is created or updated by its id, unchanged ones are left alone,\n" +
			"and references are checked across the whole set before anything is written\n" +
			"(all in one transaction). --dry-run prints the plan and changes nothing.",
		Args:    cobra.ExactArgs(1),
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := os.Stat(args[0])
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			if !st.IsDir() {
				return errors.New("import: " + args[0] + " is not a directory")
			}
			b, err := document.ReadFiles(os.DirFS(args[0]))
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			c, err := cf.client(cmd.Context(), os.Getenv)
			if err != nil {
				return err
			}
			return applyBundle(cmd, c, b, dryRun)
		},
	}
	cf.add(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change, change nothing")
	return cmd
}

// applyBundle posts a bundle to …/import and prints the plan, one line per
// document: "create|update|unchanged KIND ID NAME".
func applyBundle(cmd *cobra.Command, c *apiClient, b document.Bundle, dryRun bool) error {
	path := c.accountPath("/import")
	if dryRun {
		path += "?dry_run=true"
	}
	var env struct {
		Data []struct {
			Kind, ID, Name, Action string
		} `json:"data"`
	}
	if err := c.do(cmd.Context(), http.MethodPost, path, b, &env); err != nil {
		return err
	}
	for _, s := range env.Data {
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s %s\n", s.Action, s.Kind, s.ID, s.Name)
	}
	return nil
}
