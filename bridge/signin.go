package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// signInPoll is how often a bridge waiting for a sign-in looks for a credential (the tray or
// `mcp-broker login` may sign in from another process).
const signInPoll = 2 * time.Second

// needSignIn records that a person must sign in before requests can flow, and starts waiting
// for that: with a tray running, the tray (which reads our status file) notifies the user;
// without one, the bridge opens the browser itself.
func (b *bridge) needSignIn(cause error) {
	b.mu.Lock()
	if b.signIn.state == signInWaiting || b.session.state == sessionStopped || b.ctx.Err() != nil {
		b.mu.Unlock()
		return
	}
	b.signIn.set(signInWaiting, nil)
	b.broadcast()
	b.mu.Unlock()
	b.log.Warn("sign-in required", "cause", cause)
	if b.status != nil {
		b.status.Update(func(s *status.Bridge) { s.LastError = cause.Error() })
	}
	b.publish()
	b.answerInitialize(nil) // a person is needed: the client must not wait for them
	tray := b.opts.RuntimeDir != "" && status.TrayRunning(b.opts.RuntimeDir)
	if !tray && !b.opts.NoBrowser {
		if b.opts.Headless != "" {
			b.log.Info("no browser can be opened here: signing in with a code where the authorization server offers it", "why", b.opts.Headless)
		}
		b.startLogin()
	} else if tray {
		b.log.Info("the tray is running: leaving the sign-in to it")
	}
	b.startPolling()
}

// startPolling starts awaitSignIn unless it runs already.
func (b *bridge) startPolling() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.signIn.polling || b.ctx.Err() != nil {
		return
	}
	b.signIn.polling = true
	b.goWait(b.awaitSignIn)
}

// startLogin runs a browser sign-in in the background, unless one runs already.
func (b *bridge) startLogin() {
	b.mu.Lock()
	if b.signIn.browser || b.session.state == sessionStopped || b.ctx.Err() != nil {
		b.mu.Unlock()
		return
	}
	b.signIn.browser = true
	b.mu.Unlock()
	b.goWait(func() {
		// stopRelaying ends the sign-in: it would be for a URL this bridge no longer relays to.
		ctx, cancel := context.WithCancel(b.ctx)
		defer cancel()
		b.mu.Lock()
		b.signIn.abandon = cancel
		b.mu.Unlock()
		var err error
		if err = b.creds.checkConfig(); err == nil {
			_, err = b.opts.Broker.Login(ctx, b.name, broker.LoginOptions{
				IfNeeded: true, Rejected: b.creds.lastRejected(), ChallengeScope: b.creds.challengeScope(),
				DeviceIfOffered: b.opts.Headless != "", OnDeviceCode: b.showDeviceCode,
			})
		}
		b.mu.Lock()
		b.signIn.browser, b.signIn.abandon, b.signIn.device = false, nil, nil
		stopped := b.session.state == sessionStopped
		b.mu.Unlock()
		if b.ctx.Err() != nil || stopped {
			return
		}
		if err != nil {
			b.log.Error("sign-in failed", "err", err)
			b.signInFailed(err)
			return
		}
		b.checkSignedIn()
	})
}

// showDeviceCode keeps what a device sign-in asks the person to do, for the placeholder
// tool's answer (the broker has printed it on stderr already).
func (b *bridge) showDeviceCode(c broker.DeviceCode) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.signIn.device = &c
}

// awaitSignIn polls for a credential until one appears or the bridge exits.
func (b *bridge) awaitSignIn() {
	t := time.NewTicker(signInPoll)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		}
		if !b.checkSignedIn() {
			continue
		}
		// Stop, unless a new sign-in became necessary meanwhile (startPolling saw us running).
		b.mu.Lock()
		if b.signIn.state == signInNone {
			b.signIn.polling = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
	}
}

// checkSignedIn looks for a usable credential; when there is one, requests flow again. It
// reports whether the bridge is no longer waiting for a sign-in.
func (b *bridge) checkSignedIn() bool {
	b.mu.Lock()
	waiting := b.signIn.state != signInNone
	b.mu.Unlock()
	if !waiting {
		return true
	}
	if !b.creds.usable(b.ctx) {
		return false
	}
	b.log.Info("signed in")
	b.mu.Lock()
	b.signIn.set(signInNone, nil)
	notify := b.session.state == sessionOpen && b.placeholder == placeholderShown
	if notify {
		b.placeholder = placeholderReplaced
	}
	b.broadcast()
	b.mu.Unlock()
	if notify {
		b.listChanged()
	}
	b.wake()
	b.publish()
	return true
}

// signInFailed makes requests fail with the sign-in's error (rather than wait for a person
// who is not coming) until a credential appears.
func (b *bridge) signInFailed(err error) {
	b.mu.Lock()
	b.signIn.set(signInFailure, fmt.Errorf("signing in to %s failed: %w (run `mcp-broker login %s`)", b.name, err, b.name))
	b.broadcast()
	b.mu.Unlock()
	b.publish()
}

// placeholderName is the name of the one tool tools/list gets while the server cannot answer:
// tool names allow only [A-Za-z0-9_-], 64 at most.
func (b *bridge) placeholderName() string {
	name := "sign_in_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, b.name)
	return name[:min(len(name), 64)]
}

// answerPlaceholder answers a tools/list that could not reach the server in time with one
// tool that explains why and, when called, starts the sign-in. The client is told to refetch
// the list once the server is there.
func (b *bridge) answerPlaceholder(env jsonrpc.Envelope) {
	key := env.IDKey()
	if !b.finish(key) {
		return
	}
	b.mu.Lock()
	b.placeholder = placeholderShown
	signIn := b.signIn.state == signInWaiting
	b.mu.Unlock()
	desc := fmt.Sprintf("The MCP server %q (%s) is still connecting through mcp-broker; its tools will appear here by themselves when it answers. Call this tool to retry now.", b.name, redact.URL(b.opts.Server.URL))
	switch {
	case signIn && b.opts.Headless != "":
		desc = fmt.Sprintf("The MCP server %q (%s) needs you to sign in before its tools can be used. Call this tool for how to sign in from another device (no browser can be opened here), or run `mcp-broker login %s --device` in a terminal; the server's tools will appear here by themselves once you are signed in.", b.name, redact.URL(b.opts.Server.URL), b.name)
	case signIn:
		desc = fmt.Sprintf("The MCP server %q (%s) needs you to sign in before its tools can be used. Call this tool to open the sign-in page in your browser (or run `mcp-broker login %s`); the server's tools will appear here by themselves once you are signed in.", b.name, redact.URL(b.opts.Server.URL), b.name)
	}
	type schema struct {
		Type       string         `json:"type"`
		Properties map[string]any `json:"properties"`
	}
	type tool struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		InputSchema schema `json:"inputSchema"`
	}
	b.writeClient(result(env.ID, map[string]any{"tools": []tool{{
		Name: b.placeholderName(), Description: desc, InputSchema: schema{Type: "object", Properties: map[string]any{}},
	}}}))
}

// callPlaceholder answers a call of the placeholder tool: it starts the sign-in (or a
// reconnection) and says what happens next. It reports whether env was such a call.
func (b *bridge) callPlaceholder(env jsonrpc.Envelope) bool {
	b.mu.Lock()
	offered := b.placeholder != placeholderNever
	signIn, connected := b.signIn.state, b.session.state == sessionOpen
	b.mu.Unlock()
	if !offered || env.ToolName != b.placeholderName() {
		return false
	}
	var text string
	switch {
	case signIn != signInNone:
		b.startLogin()
		if signIn == signInFailure {
			b.mu.Lock()
			b.signIn.set(signInWaiting, nil)
			b.broadcast()
			b.mu.Unlock()
			b.startPolling()
			b.publish()
		}
		text = b.signInAdvice()
	case connected:
		b.listChanged()
		text = fmt.Sprintf("%s is connected; its tools list has been refreshed.", b.name)
	default:
		b.wake()
		text = fmt.Sprintf("mcp-broker is trying to reach %s again; its tools will appear here by themselves when it answers.", b.name)
	}
	type content struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	b.writeClient(result(env.ID, map[string]any{"content": []content{{Type: "text", Text: text}}}))
	return true
}

// signInAdvice is the placeholder tool's answer while a sign-in is needed: the address and
// code of a device sign-in in progress, else where to sign in.
func (b *bridge) signInAdvice() string {
	b.mu.Lock()
	code := b.signIn.device
	b.mu.Unlock()
	const after = " Once you are signed in, the server's tools appear here by themselves."
	switch {
	case code != nil:
		text := fmt.Sprintf("To sign in to %s, open %s in a browser on any device and enter the code %s", b.name, code.VerificationURI, code.UserCode)
		if code.VerificationURIComplete != "" {
			text += fmt.Sprintf(" (or open %s, which carries the code)", code.VerificationURIComplete)
		}
		return text + "." + after
	case b.opts.Headless != "":
		return fmt.Sprintf("No browser can be opened where mcp-broker runs (%s). Run `mcp-broker login %s --no-browser` in a terminal there (or `--device`, when the server offers sign-in with a code); the address and code of a sign-in in progress are also in this server's log.", b.opts.Headless, b.name) + after
	}
	return fmt.Sprintf("A sign-in page for %s has been opened in your browser (if it did not open, run `mcp-broker login %s` in a terminal).", b.name, b.name) + after
}
