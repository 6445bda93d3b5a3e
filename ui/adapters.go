package ui

import (
	"context"
	"fmt"

	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/claudeconfig"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/doctor"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
)

// diagnose runs `mcp-broker doctor`'s diagnosis of a server URL, reaching it as the
// configuration at configPath ("" for the default) and the environment say (proxy, CA file).
// The report carries every finding, failures included, so the error is only for a report that
// could not be made.
func diagnose(ctx context.Context, configPath, rawURL string) (*doctor.Report, error) {
	return diagnoseWith(configPath, rawURL, func(f *discovery.Fetcher) *doctor.Report { return doctor.Run(ctx, f, rawURL) })
}

// diagnoseWith runs a diagnosis of the server at rawURL with a client that reaches it as the
// configuration at configPath and the environment say, and adds to the report how it did.
func diagnoseWith(configPath, rawURL string, run func(*discovery.Fetcher) *doctor.Report) (*doctor.Report, error) {
	network, err := broker.NetworkFrom(configPath, nil)
	if err != nil {
		return nil, err
	}
	r := run(&discovery.Fetcher{HTTP: httpclient.New(httpclient.WithTimeout(discovery.DefaultTimeout), httpclient.WithNetwork(network))})
	if r == nil {
		return nil, fmt.Errorf("diagnosing %s: no report", rawURL)
	}
	r.Network = doctor.NetworkLines(network, rawURL)
	return r, nil
}

// toolSettings is the Tools window's view of the broker (windows.ToolSettings).
type toolSettings struct {
	configPath string
	toolsDir   string // "" when there is no cache folder: no tools are ever seen
	open       func(ctx context.Context) (*broker.Broker, error)
}

// Tools implements windows.ToolSettings: the server's settings from the configuration, and the
// tools its bridges last saw.
func (s toolSettings) Tools(server string) (toolpolicy.Seen, toolpolicy.Policy, error) {
	f, err := config.Load(s.configPath)
	if err != nil {
		return toolpolicy.Seen{}, toolpolicy.Policy{}, err
	}
	srv, ok := f.Server(server)
	if !ok {
		return toolpolicy.Seen{}, toolpolicy.Policy{}, &broker.UnknownServerError{Name: server}
	}
	policy := toolpolicy.FromServer(*srv)
	if s.toolsDir == "" {
		return toolpolicy.Seen{}, policy, toolpolicy.ErrNotSeen
	}
	seen, err := toolpolicy.Load(s.toolsDir, server)
	return seen, policy, err
}

// ChangeTools implements windows.ToolSettings.
func (s toolSettings) ChangeTools(ctx context.Context, server string, change broker.ToolChange) error {
	b, err := s.open(ctx)
	if err != nil {
		return err
	}
	return b.ChangeTools(ctx, server, change)
}

// serverEditor is the server form's view of the broker (windows.ServerEditor).
type serverEditor struct {
	configPath string // "" for the default
	open       func(ctx context.Context) (*broker.Broker, error)
	// saved is called after a successful save, so the tray reads the new state at once.
	saved func()
}

// Diagnose implements windows.ServerEditor: a workload or enterprise server is diagnosed with
// its setup (doctor.RunFor), so that the check judges the grants it needs, not a browser's; so
// is an OAuth server with sign-in settings of its own (a provider, authorization parameters, no
// resource, the ID token sent), so that the check names the requests they make.
func (e serverEditor) Diagnose(ctx context.Context, srv config.Server) (*doctor.Report, error) {
	own := srv.Provider != "" || len(srv.AuthParams) > 0 || srv.NoResource || srv.SendToken != ""
	if srv.Auth != config.AuthWorkload && srv.Auth != config.AuthEnterprise && !(srv.Auth == config.AuthOAuth && own) {
		return diagnose(ctx, e.configPath, srv.URL)
	}
	setup := doctor.Setup{Server: srv}
	for _, p := range e.idps() {
		if p.Name == srv.IdP {
			setup.IdP = &p.IdP
		}
	}
	return diagnoseWith(e.configPath, srv.URL, func(f *discovery.Fetcher) *doctor.Report { return doctor.RunFor(ctx, f, setup) })
}

// IdPs implements windows.ServerEditor.
func (e serverEditor) IdPs() []string {
	var names []string
	for _, p := range e.idps() {
		names = append(names, p.Name)
	}
	return names
}

// idps reads the configured identity providers; none when the configuration cannot be read
// (the form then offers none, and saving says why).
func (e serverEditor) idps() []broker.IdPStatus {
	b, err := e.open(context.Background())
	if err != nil {
		return nil
	}
	idps, err := b.IdPs()
	if err != nil {
		return nil
	}
	return idps
}

// Save implements windows.ServerEditor.
func (e serverEditor) Save(ctx context.Context, srv config.Server, secret string) error {
	b, err := e.open(ctx)
	if err != nil {
		return err
	}
	if err := b.AddServer(ctx, srv, secret); err != nil {
		return err
	}
	e.saved()
	return nil
}

// claudeWriter is the Configure Claude Code window's view of package claudeconfig
// (windows.ClaudeWriter).
type claudeWriter struct {
	ctx context.Context
	w   claudeconfig.Writer
}

// Preview implements windows.ClaudeWriter.
func (c claudeWriter) Preview(scope, dir, name string) (path, entry string, err error) {
	t, err := target(scope, dir)
	if err != nil {
		return "", "", err
	}
	p, err := c.w.Preview(t, name)
	if err != nil {
		return "", "", err
	}
	entry = p.Snippet
	if p.Status == claudeconfig.StatusDifferent {
		// The person sees what is replaced before choosing to write (the file is backed up).
		entry += "\n\nThis replaces the entry of that name there now:\n" + p.Current
	}
	return p.Path, entry, nil
}

// Write implements windows.ClaudeWriter. It replaces another entry of the same name: the
// preview showed it, and the file is backed up first.
func (c claudeWriter) Write(scope, dir, name string) (path, backup string, err error) {
	t, err := target(scope, dir)
	if err != nil {
		return "", "", err
	}
	res, err := c.w.Add(c.ctx, t, name, claudeconfig.AddOptions{Replace: true})
	if err != nil {
		return "", "", err
	}
	return res.Path, res.Backup, nil
}

// Command implements windows.ClaudeWriter.
func (c claudeWriter) Command(name string) string { return claudeconfig.Command(name, c.w.Binary) }

func target(scope, dir string) (claudeconfig.Target, error) {
	s, err := claudeconfig.ParseScope(scope)
	if err != nil {
		return claudeconfig.Target{}, err
	}
	return claudeconfig.Target{Scope: s, Dir: dir}, nil
}
