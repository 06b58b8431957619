package pivot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// UploadAttempts is how many times Upload tries before it gives up.
const UploadAttempts = 3

// Upload sends a file (a call recording) to url with PUT or POST, through
// the client's transport, so within the egress policy of the account the
// context carries. A network failure or a 5xx is tried again, a second
// and then two seconds later; a 3xx or 4xx is final. It returns the last status
// (0 when no answer came) and an error unless a 2xx came.
func (c *Client) Upload(ctx context.Context, method, url, contentType string, body []byte) (int, error) {
	method = strings.ToUpper(strings.TrimSpace(method))
	if method != http.MethodPost {
		method = http.MethodPut
	}
	var (
		status int
		err    error
	)
	for attempt := range UploadAttempts {
		if attempt > 0 {
			t := time.NewTimer(time.Duration(attempt) * time.Second)
			select {
			case <-ctx.Done():
				t.Stop()
				return status, fmt.Errorf("upload %s: %w", url, context.Cause(ctx))
			case <-t.C:
			}
		}
		status, err = c.uploadOnce(ctx, method, url, contentType, body)
		if err == nil || (status >= 300 && status < 500) { // refused (or redirected): final
			return status, err
		}
	}
	return status, fmt.Errorf("upload %s: %d attempts: %w", url, UploadAttempts, err)
}

func (c *Client) uploadOnce(ctx context.Context, method, url, contentType string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", url, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("upload %s: status %d", url, resp.StatusCode)
	}
	return resp.StatusCode, nil
}
