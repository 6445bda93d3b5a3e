package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// PageVerdict is what the answer of an authorization endpoint to a bare GET says about it.
type PageVerdict int

// The verdicts.
const (
	// PageServes: a page, a redirect (to a sign-in page), or the refusal of a request without
	// parameters: what a real authorization endpoint answers.
	PageServes PageVerdict = iota
	// PageDoubtful: a server error, or JSON where a browser expects a page: a stub, or a real
	// endpoint that fails only because the parameters are missing.
	PageDoubtful
	// PageStub: no such page (404, 410), no GET (405; RFC 6749 §3.1 requires it), not
	// implemented (501), or a JSON error no authorization endpoint answers: a person sent there
	// cannot sign in.
	PageStub
)

// AuthorizationPage is how an authorization endpoint answered a browser arriving without
// parameters (ProbeAuthorizationEndpoint).
type AuthorizationPage struct {
	Status      int
	ContentType string
	Verdict     PageVerdict
	// Why says what the answer shows, for people: "it answers 404 Not Found".
	Why string
}

// authorizationErrors are the error codes a real authorization endpoint answers (RFC 6749
// §4.1.2.1, OpenID Connect Core §3.1.2.6), shown when it cannot redirect; a JSON error with
// another code ("not_found", "not_implemented") comes from a stub.
var authorizationErrors = []string{
	"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type", "invalid_scope",
	"server_error", "temporarily_unavailable", "invalid_client", "invalid_request_uri", "invalid_request_object",
	"login_required", "interaction_required", "consent_required", "account_selection_required",
}

// maxPagePeek bounds how much of the answer is read.
const maxPagePeek = 16 << 10

// ProbeAuthorizationEndpoint sends endpoint the GET a browser would, without the parameters of
// an authorization request, and judges the answer (see PageVerdict). It follows no redirect:
// one is an answer. Hand-written servers sometimes advertise an authorization endpoint they
// never built, for a client-credentials service: a person sent there sees an error page and
// the sign-in never returns. The request carries nothing but the URL.
func (f *Fetcher) ProbeAuthorizationEndpoint(ctx context.Context, endpoint string) (*AuthorizationPage, error) {
	if err := CheckEndpoint(endpoint); err != nil {
		return nil, &InsecureEndpointError{Field: "authorization_endpoint", URL: endpoint, Reason: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("building the request for %s: %w", Redact(endpoint), err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	c := f.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // its text repeats the unredacted URL
		}
		return nil, fmt.Errorf("requesting the authorization endpoint %s: %w", Redact(endpoint), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxPagePeek))
	page := &AuthorizationPage{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	page.Verdict, page.Why = judgePage(resp.StatusCode, page.ContentType, body)
	return page, nil
}

// judgePage judges an authorization endpoint's answer to a bare GET.
func judgePage(status int, contentType string, body []byte) (PageVerdict, string) {
	answers := fmt.Sprintf("it answers %d %s", status, http.StatusText(status))
	switch status {
	case http.StatusNotFound, http.StatusGone, http.StatusNotImplemented:
		return PageStub, answers
	case http.StatusMethodNotAllowed:
		return PageStub, answers + " to GET, which an authorization endpoint must take (RFC 6749 §3.1)"
	}
	ct, _, _ := mime.ParseMediaType(contentType)
	isJSON := ct == "application/json" || strings.HasSuffix(ct, "+json")
	if isJSON {
		var e struct {
			Error any `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != nil {
			code, _ := e.Error.(string)
			if !slices.Contains(authorizationErrors, code) {
				return PageStub, fmt.Sprintf("%s with the JSON error %q, which no authorization endpoint answers", answers, sanitizeJSONValue(e.Error))
			}
		}
	}
	switch {
	case status >= 500:
		return PageDoubtful, answers + ": a stub, or an endpoint that fails only without the parameters of a real request"
	case status >= 200 && status < 300 && isJSON:
		return PageDoubtful, answers + " with JSON, where a person's browser expects a page"
	}
	return PageServes, answers
}

// sanitizeJSONValue shows a value from a remote server short and printable.
func sanitizeJSONValue(v any) string {
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	return truncate(s, 60)
}
