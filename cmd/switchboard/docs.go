package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchboard/switchboard/internal/document"
)

func newDocsCmd() *cobra.Command {
	var cf clientFlags
	names := make([]string, 0, len(document.Kinds()))
	for _, k := range document.Kinds() {
		names = append(names, k.Name)
	}
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "List, read, apply and delete an account's documents of any kind",
		Long: "Manage documents through the REST API of a running `switchboard serve`.\n" +
			"KIND is one of: " + strings.Join(names, ", ") + ".\n" +
			"Sign-in uses --api-key (or SWITCHBOARD_API_KEY, else SWITCHBOARD_ADMIN_KEY).",
	}
	cf.add(cmd)
	cmd.AddCommand(newDocsListCmd(&cf), newDocsGetCmd(&cf), newDocsApplyCmd(&cf), newDocsDeleteCmd(&cf))
	return cmd
}

// kindArg checks a KIND argument against the registered kinds.
func kindArg(name string) (*document.Kind, error) {
	k, ok := document.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("no document kind %q (see switchboard docs --help)", name)
	}
	return k, nil
}

func newDocsListCmd(cf *clientFlags) *cobra.Command {
	var (
		asJSON  bool
		filters []string
	)
	cmd := &cobra.Command{
		Use:     "list KIND",
		Short:   "List the account's documents of a kind",
		Args:    cobra.ExactArgs(1),
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := kindArg(args[0])
			if err != nil {
				return err
			}
			q := url.Values{"page_size": {"1000"}}
			for _, f := range filters {
				field, value, ok := strings.Cut(f, "=")
				if !ok || field == "" {
					return fmt.Errorf("--filter %q: want FIELD=VALUE", f)
				}
				q.Set("filter_"+field, value)
			}
			c, err := cf.client(cmd.Context(), os.Getenv)
			if err != nil {
				return err
			}
			var rows []json.RawMessage
			for {
				var page struct {
					Data []json.RawMessage `json:"data"`
					Next string            `json:"next_start_key"`
				}
				if err := c.do(cmd.Context(), http.MethodGet, c.accountPath("/"+k.Name+"?"+q.Encode()), nil, &page); err != nil {
					return err
				}
				rows = append(rows, page.Data...)
				if page.Next == "" {
					break
				}
				q.Set("start_key", page.Next)
			}
			if asJSON {
				return writeIndented(cmd.OutOrStdout(), rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME")
			for _, raw := range rows {
				var s struct{ ID, Name string }
				if err := json.Unmarshal(raw, &s); err != nil {
					return fmt.Errorf("decode listing: %w", err)
				}
				fmt.Fprintf(tw, "%s\t%s\n", s.ID, s.Name)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the listing as JSON")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "FIELD=VALUE: only documents whose field equals the value (repeatable)")
	return cmd
}

func newDocsGetCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "get KIND ID",
		Short:   "Print one document as JSON",
		Args:    cobra.ExactArgs(2),
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := kindArg(args[0])
			if err != nil {
				return err
			}
			c, err := cf.client(cmd.Context(), os.Getenv)
			if err != nil {
				return err
			}
			var env struct {
				Data json.RawMessage `json:"data"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, c.accountPath("/"+k.Name+"/"+url.PathEscape(args[1])), nil, &env); err != nil {
				return err
			}
			return writeIndented(cmd.OutOrStdout(), env.Data)
		},
	}
}

func newDocsApplyCmd(cf *clientFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "apply -f FILE KIND",
		Short: "Create or update documents of a kind from a JSON file",
		Long: "Create or update documents from a JSON file (- for standard input): one\n" +
			"document, a Kazoo envelope {\"data\": {...}}, or an array of documents.\n" +
			"A document with an \"id\" is created or updated under that id (all of them\n" +
			"in one write, references checked across the set); one without is created.",
		Args:    cobra.ExactArgs(1),
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := kindArg(args[0])
			if err != nil {
				return err
			}
			if file == "" {
				return errors.New("-f FILE is required (- reads standard input)")
			}
			docs, err := readDocuments(cmd.InOrStdin(), file)
			if err != nil {
				return err
			}
			c, err := cf.client(cmd.Context(), os.Getenv)
			if err != nil {
				return err
			}
			var bundle document.Bundle
			for i, doc := range docs {
				id, _ := doc["id"].(string)
				if id != "" {
					body, err := json.Marshal(doc)
					if err != nil {
						return fmt.Errorf("document %d: %w", i+1, err)
					}
					bundle.Documents = append(bundle.Documents, document.Entry{Kind: k.Name, ID: id, Document: body})
					continue
				}
				var env struct {
					Data struct {
						ID   string `json:"id"`
						Name string `json:"name"`
					} `json:"data"`
				}
				if err := c.do(cmd.Context(), http.MethodPut, c.accountPath("/"+k.Name), doc, &env); err != nil {
					return fmt.Errorf("document %d: %w", i+1, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created %s %s\n", env.Data.ID, env.Data.Name)
			}
			if len(bundle.Documents) == 0 {
				return nil
			}
			return applyBundle(cmd, c, bundle, false)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "JSON file of documents; - for standard input")
	return cmd
}

func newDocsDeleteCmd(cf *clientFlags) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "delete KIND ID...",
		Short:   "Delete documents (refused while call flows point to them, unless --force)",
		Args:    cobra.MinimumNArgs(2),
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := kindArg(args[0])
			if err != nil {
				return err
			}
			c, err := cf.client(cmd.Context(), os.Getenv)
			if err != nil {
				return err
			}
			q := ""
			if force {
				q = "?force=true"
			}
			for _, id := range args[1:] {
				if err := c.do(cmd.Context(), http.MethodDelete, c.accountPath("/"+k.Name+"/"+url.PathEscape(id)+q), nil, nil); err != nil {
					return fmt.Errorf("delete %s: %w", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", id)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete even when other documents point to it")
	return cmd
}
