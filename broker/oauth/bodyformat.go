package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/dpop"
)

// BodyFormats remembers, for the endpoints of one server's authorization server, which read
// only JSON request bodies (DeviationJSONBody). RFC 6749 §3.2 has token requests form-encoded,
// and so do the revocation requests of RFC 7009; hand-written servers built on a JSON body
// parser never see such a body, and answer as if it were empty.
//
// A token or revocation request is sent as a form unless JSON(endpoint) says otherwise. When
// the answer to a form shows that the server did not read it (see refusedForm), the request is
// sent once more as JSON, and if that succeeds LearnedJSON(endpoint) is called, so that the next
// request, in this process or another, goes as JSON at once.
type BodyFormats interface {
	// JSON reports whether requests to endpoint are to be sent as JSON.
	JSON(endpoint string) bool
	// LearnedJSON records that endpoint took as JSON a request it had refused as a form.
	LearnedJSON(ctx context.Context, endpoint string)
}

// bodyFormatsKey carries a BodyFormats in a context.
type bodyFormatsKey struct{}

// WithBodyFormats returns ctx carrying formats, which every token and revocation request made
// with it consults and teaches. Without one, a form is still retried as JSON when the server
// shows it wanted JSON, but nothing is remembered.
func WithBodyFormats(ctx context.Context, formats BodyFormats) context.Context {
	return context.WithValue(ctx, bodyFormatsKey{}, formats)
}

func bodyFormats(ctx context.Context) BodyFormats {
	f, _ := ctx.Value(bodyFormatsKey{}).(BodyFormats)
	return f
}

// maxRefusalPeek bounds how much of a refusal is read to judge it.
const maxRefusalPeek = 16 << 10

// sent is how send's request went.
type sent int

const (
	sentForm    sent = iota // as a form, as RFC 6749 has it
	sentJSON                // as JSON: the endpoint is known to want it, or took it on a retry
	refusedBoth             // as a form, refused unread, and as JSON, refused too
)

// send posts form to endpoint as c authenticates (see clientPost), as a form or, where the
// context's BodyFormats says so, as JSON; a form the server shows it did not read is sent
// again, once, as JSON. It returns the response to parse: the JSON one when it succeeded, else
// the first one, whose refusal is the server's own words about the request as OAuth has it.
// Its body is readable whichever it is.
func send(ctx context.Context, hc *http.Client, endpoint string, c *Client, form url.Values) (*http.Response, sent, error) {
	formats := bodyFormats(ctx)
	if formats != nil && formats.JSON(endpoint) {
		resp, err := post1(ctx, hc, endpoint, c, form, true)
		return resp, sentJSON, err
	}
	resp, err := post1(ctx, hc, endpoint, c, form, false)
	if err != nil || resp.StatusCode < 400 {
		return resp, sentForm, err
	}
	// Read what the refusal says, and keep it for the caller if no retry replaces it.
	peek, rerr := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(peek))
	if rerr != nil || !refusedForm(resp.StatusCode, resp.Header, peek, form) {
		return resp, sentForm, nil
	}
	retry, err := post1(ctx, hc, endpoint, c, form, true)
	if err != nil {
		// The first answer stands: the retry was our guess, its failure says nothing more.
		return resp, sentForm, nil
	}
	if (retry.StatusCode < 200 || retry.StatusCode > 299) && !asksNonce(retry) {
		// JSON did not help either: the form's refusal is the one to report. A server that
		// refused JSON for another reason (a spent code, a rotated refresh token) must not
		// teach us JSON.
		retry.Body.Close()
		return resp, refusedBoth, nil
	}
	if formats != nil {
		formats.LearnedJSON(ctx, endpoint)
	}
	return retry, sentJSON, nil
}

// asksNonce reports whether resp refuses a request for want of a DPoP nonce (RFC 9449 §8): the
// server read the request, and the request goes again with the nonce (see againWithNonce). The
// body is left readable.
func asksNonce(resp *http.Response) bool {
	if resp.StatusCode != http.StatusBadRequest {
		return false
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var e struct {
		Error string `json:"error"`
	}
	return json.Unmarshal(body, &e) == nil && e.Error == dpop.ErrUseNonce
}

// post1 sends one request.
func post1(ctx context.Context, hc *http.Client, endpoint string, c *Client, form url.Values, asJSON bool) (*http.Response, error) {
	r, err := clientPost(ctx, endpoint, c, form, asJSON)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	resp, err := guard(hc).Do(r)
	if err != nil {
		return nil, redactURLError(err)
	}
	return resp, nil
}

// jsonBody encodes a form as the JSON object hand-written servers read: each parameter as a
// string member (a parameter given twice, which no request here has, as an array).
func jsonBody(form url.Values) ([]byte, error) {
	obj := make(map[string]any, len(form))
	for k, vs := range form {
		if len(vs) == 1 {
			obj[k] = vs[0]
		} else {
			obj[k] = vs
		}
	}
	return json.Marshal(obj)
}

// refusedForm judges whether a token or revocation endpoint's refusal of a form-encoded request
// shows that it did not read the form, so that sending the request as JSON may help. Only clear
// signs count, because sending a code or a refresh token twice costs something when the server
// did read it:
//   - 415 Unsupported Media Type;
//   - a 400, 401, 422 or 500 that names the media types it takes (Accept or Accept-Post, RFC
//     9110 §12.5.1, W3C LDP §7.1) and JSON but not forms among them;
//   - a 400, 401, 422 or 500 whose body speaks of JSON as what it expected ("Content-Type must
//     be application/json", "expected a JSON body", a JSON parser's "Unexpected token"), or of
//     an unsupported content or media type;
//   - a 400, 401 or 422 whose body calls a parameter we did send missing, required or
//     undefined ("grant_type is required", "Unsupported grant type: undefined", "no
//     client_id").
//
// A bare invalid_request or unsupported_grant_type is not enough: a server that reads forms
// says that too.
func refusedForm(status int, h http.Header, body []byte, params url.Values) bool {
	if status == http.StatusUnsupportedMediaType {
		return true
	}
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusInternalServerError:
	default:
		return false
	}
	if takes := strings.ToLower(strings.Join(append(h.Values("Accept-Post"), h.Values("Accept")...), ",")); strings.Contains(takes, "json") && !strings.Contains(takes, "x-www-form-urlencoded") {
		return true
	}
	text := strings.ToLower(string(body[:min(len(body), maxRefusalPeek)]))
	if wantsJSON(text) {
		return true
	}
	if status == http.StatusInternalServerError {
		return false
	}
	for k := range params {
		if calledMissing(text, k) || calledMissing(text, strings.ReplaceAll(k, "_", " ")) {
			return true
		}
	}
	return false
}

// wantsJSON reports whether a refusal's (lower-case) text says it expected JSON or did not
// take the content type it got.
func wantsJSON(text string) bool {
	for _, p := range []string{"unsupported content type", "unsupported content-type", "unsupported media type", "content type not supported", "content-type not supported"} {
		if strings.Contains(text, p) {
			return true
		}
	}
	text = strings.ReplaceAll(text, "json web", "") // a JWT is no JSON body
	if !strings.Contains(text, "json") {
		return false
	}
	for _, w := range []string{"content-type", "content type", "media type", "mime", "body", "expected", "expecting", "must be", "only", "unexpected token", "syntaxerror", "parse"} {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// calledMissing reports whether text calls the parameter name missing: "no name", or a word
// saying so within a few words of the name (the name as a word of its own: code is not
// code_verifier).
func calledMissing(text, name string) bool {
	const near = 40 // characters either side
	for from := 0; ; {
		i := strings.Index(text[from:], name)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(name)
		from = end
		if (i > 0 && wordByte(text[i-1])) || (end < len(text) && wordByte(text[end])) {
			continue
		}
		before := text[max(0, i-near):i]
		if strings.HasSuffix(before, "no ") || strings.HasSuffix(before, "without ") {
			return true
		}
		window := before + text[i:min(len(text), end+near)]
		for _, w := range []string{"missing", "required", "undefined", "is empty", "not provided", "no value", "must be provided", "must be present", ": null", "is null"} {
			if strings.Contains(window, w) {
				return true
			}
		}
	}
}

// wordByte reports whether c may be part of a parameter name.
func wordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// ProbeClientID is the client_id of ProbeTokenEndpoint's requests: no client has it, so the
// only thing a server can do with them is refuse.
const ProbeClientID = "mcp-broker-doctor-probe"

// TokenEndpointProbe is how a token endpoint answered ProbeTokenEndpoint.
type TokenEndpointProbe struct {
	// FormStatus is the status of the answer to the form-encoded request.
	FormStatus int
	// RefusedForm is set when that answer shows the endpoint did not read the form (see
	// refusedForm).
	RefusedForm bool
	// JSONStatus is the status of the answer to the same request as JSON, sent only when the
	// form was refused unread; 0 otherwise.
	JSONStatus int
	// ReadJSON is set when the JSON answer does not show the endpoint left it unread either: it
	// refused the request for what it said, as it should.
	ReadJSON bool
}

// ProbeTokenEndpoint tells whether a token endpoint reads form-encoded requests, as doctor
// asks: it sends a code exchange without a code from a client no server knows
// (ProbeClientID), which any token endpoint refuses; a refusal showing the form went unread is
// followed by the same request as JSON. The requests carry no secret.
func ProbeTokenEndpoint(ctx context.Context, hc *http.Client, endpoint string) (*TokenEndpointProbe, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {ProbeClientID}}
	probe := &TokenEndpointProbe{}
	status, refused, err := probeOnce(ctx, hc, endpoint, form, false)
	if err != nil {
		return nil, err
	}
	probe.FormStatus, probe.RefusedForm = status, refused
	if !refused {
		return probe, nil
	}
	if probe.JSONStatus, refused, err = probeOnce(ctx, hc, endpoint, form, true); err != nil {
		return nil, err
	}
	probe.ReadJSON = !refused
	return probe, nil
}

// probeOnce sends one probe and judges its answer as send would.
func probeOnce(ctx context.Context, hc *http.Client, endpoint string, form url.Values, asJSON bool) (int, bool, error) {
	body, contentType := []byte(form.Encode()), "application/x-www-form-urlencoded"
	if asJSON {
		body, _ = jsonBody(form) // strings only: it cannot fail
		contentType = "application/json"
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, false, redactURLError(err)
	}
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("Accept", "application/json")
	resp, err := guard(hc).Do(r)
	if err != nil {
		return 0, false, fmt.Errorf("probing the token endpoint: %w", redactURLError(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxRefusalPeek))
	return resp.StatusCode, refusedForm(resp.StatusCode, resp.Header, answer, form), nil
}
