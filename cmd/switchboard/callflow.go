package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newCallflowCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "callflow",
		Short: "List, read, apply and delete call flows on a running server",
		Long: "Manage call flows through the REST API of a running `switchboard serve`.\n" +
			"Sign-in uses --api-key (or SWITCHBOARD_API_KEY, else SWITCHBOARD_ADMIN_KEY).",
	}
	cf.add(cmd)
	cmd.AddCommand(newCallflowListCmd(&cf), newCallflowGetCmd(&cf), newCallflowApplyCmd(&cf), newCallflowDeleteCmd(&cf))
	return cmd
}

type flowSummary struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Numbers  []string `json:"numbers"`
	Patterns []string `json:"patterns"`
	Modules  []string `json:"modules"`
}

// listAll reads every page of the listing.
func listAll(cmd *cobra.Command, c *apiClient) ([]json.RawMessage, error) {
	var all []json.RawMessage
	next := ""
	for {
		path := c.accountPath("/callflows?page_size=1000")
		if next != "" {
			path += "&start_key=" + url.QueryEscape(next)
		}
		var page struct {
			Data []json.RawMessage `json:"data"`
			Next string            `json:"next_start_key"`
		}
		if err := c.do(cmd.Context(), http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if page.Next == "" {
			return all, nil
		}
		next = page.Next
	}
}

func newCallflowListCmd(cf *clientFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the account's call flows",
		Args:    cobra.NoArgs,
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd.Context(), os.Getenv)
			if err != nil {
				return err
			}
			rows, err := listAll(cmd, c)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeIndented(out, rows)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tNUMBERS\tPATTERNS\tMODULES")
			for _, raw := range rows {
				var s flowSummary
				if err := json.Unmarshal(raw, &s); err != nil {
					return fmt.Errorf("decode listing: %w", err)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Name, strings.Join(s.Numbers, ","), strings.Join(s.Patterns, " "), strings.Join(s.Modules, ","))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the listing as JSON")
	return cmd
}

func newCallflowGetCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "get ID",
		Short:   "Print one call flow as JSON",
		Args:    cobra.ExactArgs(1),
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd.Context(), os.Getenv)
			if err != nil {
				return err
			}
			var env struct {
				Data json.RawMessage `json:"data"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, c.accountPath("/callflows/"+url.PathEscape(args[0])), nil, &env); err != nil {
				return err
			}
			return writeIndented(cmd.OutOrStdout(), env.Data)
		},
	}
}

func newCallflowApplyCmd(cf *clientFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create or update call flows from a JSON file",
		Long: "Create or update call flows from a JSON file (- for standard input): one\n" +
			"document, a Kazoo envelope {\"data\": {...}}, or an array of documents.\n" +
			"A document with an \"id\" of an existing flow updates it; else one with the\n" +
			"name of exactly one existing flow updates that flow; else a flow is created.",
		Args:    cobra.NoArgs,
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
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
			existing, err := listAll(cmd, c)
			if err != nil {
				return err
			}
			byName := map[string][]string{}
			for _, raw := range existing {
				var s flowSummary
				if json.Unmarshal(raw, &s) == nil && s.Name != "" {
					byName[s.Name] = append(byName[s.Name], s.ID)
				}
			}
			for i, doc := range docs {
				id, _ := doc["id"].(string)
				name, _ := doc["name"].(string)
				if id == "" && len(byName[name]) == 1 {
					id = byName[name][0]
				}
				var env struct {
					Data struct {
						ID string `json:"id"`
					} `json:"data"`
				}
				verb := "updated"
				err := errNoID
				if id != "" {
					err = c.do(cmd.Context(), http.MethodPost, c.accountPath("/callflows/"+url.PathEscape(id)), doc, &env)
				}
				if ae, ok := errors.AsType[*apiError](err); err == errNoID || ok && ae.Status == http.StatusNotFound {
					delete(doc, "id")
					verb = "created"
					err = c.do(cmd.Context(), http.MethodPut, c.accountPath("/callflows"), doc, &env)
				}
				if err != nil {
					return fmt.Errorf("document %d (%q): %w", i+1, name, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s\n", verb, env.Data.ID, name)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "JSON file of call flows; - for standard input")
	return cmd
}

var errNoID = errors.New("no id")

// readDocuments reads one document, an envelope or an array of documents.
func readDocuments(stdin io.Reader, file string) ([]map[string]any, error) {
	var raw []byte
	var err error
	if file == "-" {
		raw, err = io.ReadAll(io.LimitReader(stdin, 64<<20))
	} else {
		raw, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", file, err)
	}
	if m, ok := v.(map[string]any); ok {
		if inner, ok := m["data"].(map[string]any); ok && m["flow"] == nil {
			m = inner
		}
		return []map[string]any{m}, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a call-flow object or an array of them", file)
	}
	docs := make([]map[string]any, 0, len(arr))
	for i, e := range arr {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: element %d is not an object", file, i+1)
		}
		docs = append(docs, m)
	}
	return docs, nil
}

func newCallflowDeleteCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete ID...",
		Short:   "Delete call flows",
		Args:    cobra.MinimumNArgs(1),
		PreRunE: bindEnvAll,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd.Context(), os.Getenv)
			if err != nil {
				return err
			}
			for _, id := range args {
				if err := c.do(cmd.Context(), http.MethodDelete, c.accountPath("/callflows/"+url.PathEscape(id)), nil, nil); err != nil {
					return fmt.Errorf("delete %s: %w", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", id)
			}
			return nil
		},
	}
}

func writeIndented(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
