package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/httpclient"
)

// Defaults of a zero Fetcher.
const (
	// DefaultMaxBytes caps a metadata body; real documents are a few KiB.
	DefaultMaxBytes = 1 << 20
	// DefaultProtocolVersion is sent as MCP-Protocol-Version on discovery
	// requests, as the MCP specification asks.
	DefaultProtocolVersion = "2025-11-25"
	// DefaultTimeout bounds each request when Fetcher.HTTP is nil.
	DefaultTimeout = 15 * time.Second

	maxRedirects = 5
)

// Purposes of Trace entries, so a reader (doctor) can tell them apart.
const (
	PurposeProbe              = "MCP endpoint probe"
	PurposeResourceMetadata   = "protected-resource metadata"
	PurposeAuthServerMetadata = "authorization server metadata"
)

// Probe is one entry of a discovery Trace: a request (each redirect hop is
// one, with a 3xx Status and Note "redirect to …"), or, with Method "", a
// failure no request shows: a URL refused unrequested (Note "not requested")
// or a conclusion such as "found no metadata at any candidate URL".
type Probe struct {
	Purpose     string // one of the Purpose constants
	Method      string // "" when no request was made
	URL         string // redacted with Redact: fit to show
	Status      int    // HTTP status; 0 when no response
	ContentType string // of the response, when there was one
	Err         string // what went wrong, "" when nothing did
	Note        string
}

// Fetcher is the only way discovery touches the network. Its zero value is
// ready to use. A Fetcher is safe for concurrent use if its HTTP client is.
type Fetcher struct {
	// HTTP is the client to use; nil means one of httpclient.New with a 15 s
	// timeout, shared by every Fetcher. It is never modified: each request
	// uses a copy with our redirect policy.
	HTTP *http.Client
	// MaxBytes caps each metadata body; 0 means DefaultMaxBytes (1 MiB).
	MaxBytes int64
	// ProtocolVersion is sent as MCP-Protocol-Version; "" means
	// DefaultProtocolVersion.
	ProtocolVersion string
}

// Client returns a copy of the fetcher's HTTP client that follows at most
// 5 redirects, and only within the origin (scheme, host, port) of the first
// request; a redirect elsewhere fails with a *RedirectError. A redirect
// policy the caller's client has runs after ours.
func (f *Fetcher) Client() *http.Client { return f.client("", nil) }

// client is Client recording each redirect in tr, when tr is not nil.
func (f *Fetcher) client(purpose string, tr *trace) *http.Client {
	c := *defaultClient()
	if f != nil && f.HTTP != nil {
		c = *f.HTTP
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if prev := via[len(via)-1]; tr != nil && req.Response != nil {
			tr.add(Probe{Purpose: purpose, Method: prev.Method, URL: Redact(prev.URL.String()),
				Status: req.Response.StatusCode, ContentType: req.Response.Header.Get("Content-Type"),
				Note: "redirect to " + Redact(req.URL.String())})
		}
		if len(via) > maxRedirects {
			return &RedirectError{To: req.URL.String(), TooMany: true}
		}
		if !sameOrigin(via[0].URL, req.URL) {
			return &RedirectError{From: origin(via[0].URL), To: origin(req.URL)}
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

// defaultClient is the client of Fetchers without one: built once, so that
// they share its connections.
var defaultClient = sync.OnceValue(func() *http.Client {
	return httpclient.New(httpclient.WithTimeout(DefaultTimeout))
})

func (f *Fetcher) maxBytes() int64 {
	if f == nil || f.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return f.MaxBytes
}

func (f *Fetcher) protocolVersion() string {
	if f == nil || f.ProtocolVersion == "" {
		return DefaultProtocolVersion
	}
	return f.ProtocolVersion
}

// trace collects the Probes of one discovery run.
type trace []Probe

func (t *trace) add(p Probe) { *t = append(*t, p) }

// fail records err on the last entry, for checks made after a successful
// request (a resource or issuer mismatch), so the trace shows every failure.
func (t *trace) fail(err error) {
	if n := len(*t); n > 0 && (*t)[n-1].Err == "" {
		(*t)[n-1].Err = err.Error()
	}
}

// conclude records a failure that no single request shows, such as finding
// nothing at any candidate URL, as an entry without a request.
func (t *trace) conclude(purpose, subject string, err error) {
	t.add(Probe{Purpose: purpose, URL: Redact(subject), Err: err.Error()})
}

// getJSON GETs rawURL and, on a 2xx answer, decodes its body into v. It
// returns the status; a non-2xx status is not an error (callers try the next
// candidate). Failures to reach the URL, a refused redirect, a body over the
// cap and malformed JSON are errors.
func (f *Fetcher) getJSON(ctx context.Context, purpose, rawURL string, v any, tr *trace) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, fmt.Errorf("building request for %s: %w", Redact(rawURL), err)
	}
	req.Header.Set("Accept", "application/json")
	resp, p, err := f.do(purpose, req, tr)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if is2xx(resp.StatusCode) {
		body, err := readCapped(resp, f.maxBytes())
		if err == nil {
			if jerr := json.Unmarshal(body, v); jerr != nil {
				err = fmt.Errorf("not valid JSON: %s", truncate(jerr.Error(), 120))
			}
		}
		if err != nil {
			merr := &MetadataError{Purpose: purpose, URL: rawURL, Err: err}
			p.Err = merr.Error()
			tr.add(p)
			return resp.StatusCode, merr
		}
	}
	tr.add(p)
	return resp.StatusCode, nil
}

// do sends req with the MCP-Protocol-Version header through the redirect
// policy. On success it returns the response and its trace entry, for the
// caller to complete and add; on failure it has recorded the failure.
func (f *Fetcher) do(purpose string, req *http.Request, tr *trace) (*http.Response, Probe, error) {
	req.Header.Set("MCP-Protocol-Version", f.protocolVersion())
	resp, err := f.client(purpose, tr).Do(req)
	if err != nil {
		var re *RedirectError
		if errors.As(err, &re) {
			// The refused hop was recorded by the redirect policy; what
			// remains is the request we did not make.
			tr.add(Probe{Purpose: purpose, URL: Redact(re.To), Err: re.Error(), Note: "not requested"})
			return nil, Probe{}, re
		}
		failed := req.URL.String()
		var ue *url.Error
		if errors.As(err, &ue) {
			failed, err = ue.URL, ue.Err // ue's text repeats the unredacted URL
		}
		err = fmt.Errorf("requesting %s at %s: %w", purpose, Redact(failed), err)
		tr.add(Probe{Purpose: purpose, Method: req.Method, URL: Redact(failed), Err: err.Error()})
		return nil, Probe{}, err
	}
	return resp, Probe{Purpose: purpose, Method: req.Method, URL: Redact(resp.Request.URL.String()),
		Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}, nil
}

// readCapped reads a body of at most limit bytes, refusing larger ones
// without reading them whole.
func readCapped(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return b, nil
}

// probeEndpoint sends the MCP endpoint an unauthenticated request and
// returns its status and headers without reading the body: an SSE answer can
// stay open, and all we need is in the headers. POST carries an initialize
// request; GET asks for an SSE stream (legacy HTTP+SSE servers).
func (f *Fetcher) probeEndpoint(ctx context.Context, method, serverURL string, tr *trace) (int, http.Header, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends a streaming body we never read

	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(initializeRequest(f.protocolVersion()))
	}
	req, err := http.NewRequestWithContext(ctx, method, serverURL, body)
	if err != nil {
		return 0, nil, fmt.Errorf("building request for %s: %w", Redact(serverURL), err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	} else {
		req.Header.Set("Accept", "text/event-stream")
	}
	resp, p, err := f.do(PurposeProbe, req, tr)
	if err != nil {
		return 0, nil, err
	}
	resp.Body.Close()
	tr.add(p)
	return resp.StatusCode, resp.Header, nil
}

// initializeRequest is the JSON-RPC initialize a real client would send
// first; servers that need a token answer it with 401 and their challenge.
func initializeRequest(version string) string {
	b, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"id":      0,
		"method":  "initialize",
		"params": map[string]any{
			"protocolVersion": version,
			"capabilities":    map[string]any{},
			"clientInfo":      map[string]string{"name": "mcp-broker-discovery", "version": "1"},
		},
	})
	return string(b)
}

func is2xx(status int) bool { return status >= 200 && status < 300 }
