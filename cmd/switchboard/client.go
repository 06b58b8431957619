package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// apiClient talks to a running server's REST API, as an admin would with
// curl: it trades the API key for a token, then sends X-Auth-Token.
type apiClient struct {
	base      string
	apiKey    string
	accountID string
	token     string
	http      *http.Client
}

type clientFlags struct {
	server  string
	apiKey  string
	account string
}

func (f *clientFlags) add(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", "", "URL of the running server; from SWITCHBOARD_HTTP_ADDR when empty, else http://127.0.0.1:8080 (SWITCHBOARD_SERVER)")
	pf.StringVar(&f.apiKey, "api-key", "", "API key; SWITCHBOARD_ADMIN_KEY when empty (SWITCHBOARD_API_KEY)")
	pf.StringVar(&f.account, "account", "", "account id; the key's own account when empty (SWITCHBOARD_ACCOUNT)")
}

// serverURL turns a listen address such as ":8080" or "0.0.0.0:9000" into a
// URL a client on this machine can reach.
func serverURL(flag, httpAddr string) string {
	if flag != "" {
		return strings.TrimRight(flag, "/")
	}
	if httpAddr == "" {
		return "http://127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return "http://" + httpAddr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func (f *clientFlags) client(ctx context.Context, env func(string) string) (*apiClient, error) {
	key := f.apiKey
	if key == "" {
		key = env("SWITCHBOARD_ADMIN_KEY")
	}
	if key == "" {
		return nil, fmt.Errorf("no API key: pass --api-key or set SWITCHBOARD_API_KEY (serve printed the admin key at first start)")
	}
	c := &apiClient{base: serverURL(f.server, env("SWITCHBOARD_HTTP_ADDR")), apiKey: key, http: &http.Client{Timeout: 30 * time.Second}}
	var auth struct {
		AuthToken string `json:"auth_token"`
		Data      struct {
			AccountID string `json:"account_id"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodPut, "/v2/api_auth", map[string]any{"api_key": key}, &auth); err != nil {
		return nil, fmt.Errorf("sign in to %s: %w", c.base, err)
	}
	c.token, c.accountID = auth.AuthToken, auth.Data.AccountID
	if f.account != "" {
		c.accountID = f.account
	}
	return c, nil
}

// apiError is an error envelope from the server.
type apiError struct {
	Status  int
	Message string
	Data    json.RawMessage
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.Message)
	if len(e.Data) > 0 && string(e.Data) != "{}" && string(e.Data) != "null" {
		msg += ": " + string(e.Data)
	}
	return msg
}

// do sends data wrapped in the Kazoo envelope and decodes the answer's
// envelope into out.
func (c *apiClient) do(ctx context.Context, method, path string, data any, out any) error {
	var body io.Reader
	if data != nil {
		b, err := json.Marshal(map[string]any{"data": data})
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is `switchboard serve` running?)", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var env struct {
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(raw, &env)
		return &apiError{Status: resp.StatusCode, Message: env.Message, Data: env.Data}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
	}
	return nil
}

func (c *apiClient) accountPath(rest string) string {
	return "/v2/accounts/" + c.accountID + rest
}
