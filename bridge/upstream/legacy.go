package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// postTimeout bounds one legacy POST. The answer travels on the stream, so the POST itself
// only waits for "202 Accepted"; some servers never answer a POST for a session they do not
// know, and without a bound the request would hang forever.
const postTimeout = 30 * time.Second

// legacy is a connection over the HTTP+SSE transport of 2024-11-05: one GET stream carries
// every server message; each client message is POSTed to the endpoint the stream named.
type legacy struct {
	base
	sseURL   *url.URL
	endpoint string
	version  string
	cancel   context.CancelFunc // ends the stream
	done     chan struct{}      // closed when the stream reader has exited

	lost     chan struct{}
	lostOnce sync.Once
	lostErr  error
}

// dialLegacy opens the stream, waits for its endpoint event, and initializes.
func dialLegacy(ctx context.Context, opts Options, u *url.URL, init []byte, env jsonrpc.Envelope) (Conn, []byte, error) {
	streamCtx, cancel := context.WithCancel(context.Background())
	c := &legacy{base: newBase(opts), sseURL: u, cancel: cancel, done: make(chan struct{}), lost: make(chan struct{})}
	// The stream outlives Connect, but the handshake must end with ctx.
	stop := context.AfterFunc(ctx, cancel)
	fail := func(err error) (Conn, []byte, error) {
		stop()
		c.Close(context.Background())
		return nil, nil, err
	}
	resp, err := c.do(streamCtx, "SSE stream", func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", acceptStream)
		return req, nil
	})
	if err != nil {
		close(c.done)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fail(err)
	}
	if resp.StatusCode >= 300 {
		close(c.done)
		_, err := c.readError(resp)
		return fail(err)
	}
	if mediaType(resp.Header) != "text/event-stream" {
		close(c.done)
		discard(resp)
		return fail(fmt.Errorf("the server's answer to GET is %q, not an event stream", resp.Header.Get("Content-Type")))
	}
	endpoint := make(chan string, 1)
	go c.read(resp, endpoint)

	select {
	case ep := <-endpoint:
		c.endpoint = ep
	case <-c.lost:
		return fail(fmt.Errorf("the SSE stream ended before its endpoint event: %w", c.lostErr))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	ch, forget := c.expect(env.IDKey())
	defer forget()
	if err := c.Send(ctx, init, env); err != nil {
		return fail(fmt.Errorf("sending initialize: %w", err))
	}
	var answer []byte
	select {
	case answer = <-ch:
	case <-c.lost:
		return fail(fmt.Errorf("the SSE stream ended before the answer to initialize: %w", c.lostErr))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	version, isErr := initializeResult(answer)
	if isErr {
		stop()
		c.Close(context.Background())
		return nil, nil, &InitializeError{Response: answer}
	}
	c.version = version
	notif := jsonrpc.Envelope{Kind: jsonrpc.KindNotification, Method: "notifications/initialized"}
	if err := c.Send(ctx, initializedNotification, notif); err != nil {
		return fail(fmt.Errorf("sending notifications/initialized: %w", err))
	}
	if !stop() && ctx.Err() != nil {
		return fail(ctx.Err())
	}
	return c, answer, nil
}

// read delivers the stream's messages until it ends, which loses the connection.
func (c *legacy) read(resp *http.Response, endpoint chan<- string) {
	defer close(c.done)
	defer resp.Body.Close()
	var cur streamCursor
	sent := false
	err := c.eachEvent(resp.Body, &cur, func(typ string, data []byte) (bool, error) {
		if typ != "endpoint" {
			if len(data) > 0 && (typ == "" || typ == "message") {
				c.deliver(data)
			}
			return false, nil
		}
		if sent {
			return false, nil // a second endpoint event means nothing in the spec
		}
		ep, err := c.resolveEndpoint(string(data))
		if err != nil {
			return false, err
		}
		sent = true
		endpoint <- ep
		return false, nil
	})
	c.markLost(err)
}

// resolveEndpoint resolves the endpoint event's URL against the stream's URL and refuses
// another origin: the credential goes on every POST, and must never reach another server.
func (c *legacy) resolveEndpoint(raw string) (string, error) {
	ref, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("the endpoint event holds an invalid URL: %w", err)
	}
	ep := c.sseURL.ResolveReference(ref)
	if !strings.EqualFold(ep.Scheme, c.sseURL.Scheme) || !strings.EqualFold(ep.Host, c.sseURL.Host) {
		return "", fmt.Errorf("the endpoint event names another origin (%s://%s): refused, the credential would go there", ep.Scheme, ep.Host)
	}
	return ep.String(), nil
}

func (c *legacy) markLost(err error) {
	c.lostOnce.Do(func() {
		if err == nil {
			err = errors.New("the server closed the SSE stream")
		}
		c.lostErr = fmt.Errorf("%w: %v", ErrLost, err)
		close(c.lost)
	})
}

func (c *legacy) Transport() config.Transport { return config.TransportSSE }
func (c *legacy) ProtocolVersion() string     { return c.version }
func (c *legacy) Lost() <-chan struct{}       { return c.lost }

// LostErr says why the connection was lost (nil while it is not).
func (c *legacy) LostErr() error {
	select {
	case <-c.lost:
		return c.lostErr
	default:
		return nil
	}
}

// Send POSTs msg to the endpoint; answers arrive on the stream.
func (c *legacy) Send(ctx context.Context, msg []byte, env jsonrpc.Envelope) error {
	if err := c.LostErr(); err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	resp, err := c.do(pctx, operation(env), func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(msg))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", acceptPost)
		return req, nil
	})
	if err != nil {
		if ctx.Err() == nil && pctx.Err() != nil {
			return fmt.Errorf("the server did not accept the message within %s", postTimeout)
		}
		return err
	}
	if resp.StatusCode >= 300 {
		_, err := c.readError(resp)
		var se *StatusError
		if errors.As(err, &se) && (se.Status == http.StatusNotFound || (se.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(se.Body), "session"))) {
			// The server forgot us: the stream is as good as gone.
			c.markLost(err)
			c.cancel()
			return c.lostErr
		}
		return err
	}
	if mediaType(resp.Header) == "application/json" {
		// Not what the transport says, but some servers answer in the POST's body.
		body, err := readBody(resp, c.opts.MaxMessage)
		resp.Body.Close()
		if body = trimJSONSpace(body); err == nil && len(body) > 0 {
			c.deliver(body)
		}
		return nil
	}
	discard(resp)
	return nil
}

// Close ends the stream and waits for its reader. Legacy sessions end with their stream.
func (c *legacy) Close(context.Context) {
	c.cancel()
	<-c.done
	c.markLost(errors.New("closed"))
}
