package opener

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
)

// Recorder is a fake Opener for tests. It checks each URL with [CheckURL], as System does, records
// it, and then calls OnOpen if set. The zero value is ready to use and safe for concurrent use.
//
// OnOpen runs synchronously, inside Open. A hook that drives the sign-in to its end (follows the
// URL to the loopback server) must not block until the callback is answered, because the caller
// usually starts waiting for the callback only after Open returns; use [Browser] for that.
type Recorder struct {
	// OnOpen, if set, is called with each URL that passed CheckURL; its error is Open's error.
	OnOpen func(ctx context.Context, url string) error

	mu   sync.Mutex
	urls []string
}

// Open implements Opener.
func (r *Recorder) Open(ctx context.Context, url string) error {
	if err := CheckURL(url); err != nil {
		return fmt.Errorf("opening the browser: %w", err)
	}
	r.mu.Lock()
	r.urls = append(r.urls, url)
	r.mu.Unlock()
	if r.OnOpen != nil {
		return r.OnOpen(ctx, url)
	}
	return nil
}

// URLs returns a copy of the URLs opened so far, in order.
func (r *Recorder) URLs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.urls)
}

// Visit is what [Browser] saw when it followed one URL.
type Visit struct {
	URL    string // the URL given to Open
	Final  string // the URL of the last response, after redirects
	Status int    // its HTTP status; 0 if Err is set
	Body   string // its body, at most 1 MiB
	Err    error  // transport error, if the request failed
}

// Browser is a fake Opener for end-to-end tests that behaves like a real browser does: Open
// checks and records the URL and returns at once, while a goroutine GETs the URL with Client,
// following redirects (to the authorization server, then back to the loopback server), the way
// xdg-open returns before the user has signed in. Call Wait to collect what it saw.
//
// The goroutines belong to the Browser: each ends when its request chain completes or when the
// ctx passed to Open ends; Wait waits for all of them. The zero value uses http.DefaultClient.
type Browser struct {
	// Client performs the requests; nil means http.DefaultClient (which follows up to 10 redirects).
	Client *http.Client

	rec    Recorder
	wg     sync.WaitGroup
	mu     sync.Mutex
	visits []Visit
}

// Open implements Opener.
func (b *Browser) Open(ctx context.Context, url string) error {
	if err := b.rec.Open(ctx, url); err != nil {
		return err
	}
	b.wg.Go(func() {
		v := b.follow(ctx, url)
		b.mu.Lock()
		b.visits = append(b.visits, v)
		b.mu.Unlock()
	})
	return nil
}

func (b *Browser) follow(ctx context.Context, url string) Visit {
	v := Visit{URL: url}
	client := b.Client
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		v.Err = err
		return v
	}
	resp, err := client.Do(req)
	if err != nil {
		v.Err = err
		return v
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	v.Final, v.Status, v.Body, v.Err = resp.Request.URL.String(), resp.StatusCode, string(body), err
	return v
}

// URLs returns a copy of the URLs opened so far, in order.
func (b *Browser) URLs() []string { return b.rec.URLs() }

// Wait waits until every navigation started by Open has finished and returns what each one saw,
// in the order they finished.
func (b *Browser) Wait() []Visit {
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.visits)
}
