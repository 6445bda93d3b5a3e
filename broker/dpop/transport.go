package dpop

import (
	"errors"
	"net/http"
)

// Transport is an http.RoundTripper for requests to an authorization server's token endpoint:
// each request (and each redirect hop, which the http.Client sends through it too) gets a
// proof of its own for its method and URL, with the nonce the origin last supplied (RFC 9449
// §5), and the nonce of every answer is kept for the next request.
//
// It does not send a request again by itself when the server answers use_dpop_nonce (§8): the
// caller builds it anew, since a token request may hold values that must not be sent twice
// (the jti of a private_key_jwt client assertion). The new request's proof has the nonce.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Prover signs the proofs. Required.
	Prover *Prover
	// Nonces are the nonces servers supplied, shared with other requests. Required.
	Nonces *Nonces
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	proof, err := t.Prover.Proof(req.Method, req.URL, t.Nonces.For(req.URL), "")
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close() // RoundTrip closes the body, even on an error
		}
		return nil, err
	}
	r := req.Clone(req.Context()) // a RoundTripper must not change the request it is given
	r.Header.Set(HeaderProof, proof)
	resp, err := base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	t.Nonces.Remember(req.URL, resp.Header)
	return resp, nil
}

// errNoProver is returned by Client for a Transport without its Prover or Nonces.
var errNoProver = errors.New("dpop: a Transport needs a Prover and Nonces")

// Client returns a copy of hc whose requests go through a Transport with p and n. hc's redirect
// policy, timeout and connections are kept.
func Client(hc *http.Client, p *Prover, n *Nonces) (*http.Client, error) {
	if p == nil || n == nil {
		return nil, errNoProver
	}
	c := *hc
	c.Transport = &Transport{Base: hc.Transport, Prover: p, Nonces: n}
	return &c, nil
}
