package broker

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// GrantForTest returns the access and refresh token stored for the server, as Credential and
// a refresh find them; "" for none.
func (b *Broker) GrantForTest(ctx context.Context, name string) (access, refresh string, err error) {
	tok, err := b.loadToken(ctx, name)
	if err != nil || tok == nil {
		return "", "", err
	}
	rt, err := b.refreshToken(ctx, name, tok)
	return tok.AccessToken, rt, err
}

// SaveGrantForTest stores a grant for the server as a sign-in or a refresh in another process
// would, keeping the stored grant's issuer, endpoints and client.
func (b *Broker) SaveGrantForTest(ctx context.Context, name, access, refresh string, expiry time.Time) error {
	old, err := b.loadToken(ctx, name)
	if err != nil || old == nil {
		return errors.Join(err, errors.New("no grant stored"))
	}
	_, err = b.saveToken(ctx, name, &oauth.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", Expiry: expiry, IssuedAt: b.now()},
		old.Issuer, old.TokenEndpoint, old.Resource, old.ClientID)
	return err
}

// OldLayoutForTest rewrites the server's stored grant in the layout of mcp-broker before
// issue 8: the access token's item without the refresh token, which has an item of its own.
func (b *Broker) OldLayoutForTest(ctx context.Context, name string) error {
	_, rt, err := b.GrantForTest(ctx, name)
	if err != nil {
		return err
	}
	raw, err := b.secrets.Get(ctx, tokenKey(name))
	if err != nil {
		return err
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		return err
	}
	for _, f := range []string{"refresh_token", "format", "grant"} {
		delete(fields, f)
	}
	data, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	if err := b.secrets.Set(ctx, refreshKey(name), rt); err != nil {
		return err
	}
	return b.secrets.Set(ctx, tokenKey(name), string(data))
}

// SetDeviceWaitForTest makes the polling of device sign-ins wait with wait instead of a timer:
// tests advance a clock shared with the authorization server, and see each interval.
func (b *Broker) SetDeviceWaitForTest(wait func(ctx context.Context, d time.Duration) error) {
	b.devicePoll.Wait = wait
}
