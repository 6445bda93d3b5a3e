package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
)

// maxCIMDBody bounds a Client ID Metadata Document; real ones are < 5 KiB.
const maxCIMDBody = 64 << 10

// isCIMDClientID reports whether id has the form of a Client ID Metadata
// Document URL: https with a host and a path (draft-ietf-oauth-client-id-metadata-document §3).
func isCIMDClientID(id string) bool {
	u, err := url.Parse(id)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.Path != "" && u.Path != "/" &&
		u.Fragment == "" && u.User == nil
}

// cimdDocument holds the fields of a Client ID Metadata Document we use.
type cimdDocument struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	ClientSecret            string   `json:"client_secret"`
}

// lookupClient finds a registered client, or, with CIMD on and a URL
// client_id, fetches its metadata document. refetch forces a fresh fetch
// (the authorization request does, so a changed document takes effect).
// The error text is safe to show on an HTML error page.
func (s *Server) lookupClient(ctx context.Context, id string, refetch bool) (*Client, error) {
	if id == "" {
		return nil, errors.New("missing client_id")
	}
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	cimd := s.opts.CIMD && isCIMDClientID(id)
	if ok && (!cimd || !refetch) {
		return c, nil
	}
	if !cimd {
		return nil, errors.New("unknown client_id")
	}
	c, err := s.fetchCIMD(ctx, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.clients[id] = c
	s.mu.Unlock()
	return c, nil
}

// fetchCIMD fetches and validates the document at id.
func (s *Server) fetchCIMD(ctx context.Context, id string) (*Client, error) {
	s.mu.Lock()
	s.stats.CIMDFetches++
	s.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, fmt.Errorf("building client metadata request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.cimdClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching client metadata document: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching client metadata document: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCIMDBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading client metadata document: %w", err)
	}
	if len(body) > maxCIMDBody {
		return nil, errors.New("client metadata document is too large")
	}
	var doc cimdDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("parsing client metadata document: %w", err)
	}
	switch {
	case doc.ClientID != id:
		return nil, errors.New("client metadata document: client_id does not equal its URL")
	case doc.ClientSecret != "":
		return nil, errors.New("client metadata document: must not contain client_secret")
	case doc.TokenEndpointAuthMethod != "" && doc.TokenEndpointAuthMethod != AuthNone:
		return nil, errors.New("client metadata document: only token_endpoint_auth_method none is supported")
	case len(doc.RedirectURIs) == 0:
		return nil, errors.New("client metadata document: redirect_uris is empty")
	}
	for _, u := range doc.RedirectURIs {
		if !validRedirectURI(u) {
			return nil, errors.New("client metadata document: invalid redirect URI")
		}
	}
	grants := doc.GrantTypes
	if len(grants) == 0 {
		grants = []string{GrantAuthorizationCode} // RFC 7591 §2 default
	}
	return &Client{
		ID:           id,
		Name:         doc.ClientName,
		RedirectURIs: slices.Clone(doc.RedirectURIs),
		AuthMethod:   AuthNone,
		GrantTypes:   slices.Clone(grants),
	}, nil
}
