package model

import (
	"os"
	"slices"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// toolsReader fills in the Tools and Hidden of a snapshot's servers from the files the bridges
// keep (toolpolicy.Load) and the servers' tool settings in the configuration. It keeps what it
// parsed and parses a file again only when its modification time or size changed: the
// Watcher reads twice a second, and the files change when a server's tools or settings do.
type toolsReader struct {
	dir    string // the tools folder (Paths.Tools)
	config string // the config file (Paths.Config)
	// load reads a server's tools file (toolpolicy.Load); a test counts its calls.
	load func(dir, server string) (toolpolicy.Seen, error)
	// loadConfig reads the configuration (config.Load); a test counts its calls.
	loadConfig func(path string) (*config.File, error)

	tools    map[string]parsedTools // by server
	settings parsedSettings
}

// stamp is what tells a file changed without reading it.
type stamp struct {
	mod  time.Time
	size int64
}

// stampOf returns path's stamp; ok is false when it cannot be had (no such file).
func stampOf(path string) (stamp, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}, false
	}
	return stamp{mod: fi.ModTime(), size: fi.Size()}, true
}

// parsedTools is a tools file as last parsed; ok is false when it could not be.
type parsedTools struct {
	stamp stamp
	tools []toolpolicy.Tool
	ok    bool
}

// parsedSettings are the tool settings of every server, from the configuration as last parsed.
type parsedSettings struct {
	stamp    stamp
	read     bool
	policies map[string]toolpolicy.Policy
}

func newToolsReader(dir, configPath string) *toolsReader {
	return &toolsReader{dir: dir, config: configPath, load: toolpolicy.Load, loadConfig: config.Load, tools: map[string]parsedTools{}}
}

// read fills in s. Only a live bridge writes its server's file, so the other servers' files are
// not looked at. A server never listed, or whose file cannot be read, keeps nil.
func (r *toolsReader) read(s Snapshot) {
	var policies map[string]toolpolicy.Policy
	for i := range s.Servers {
		srv := &s.Servers[i]
		if len(srv.Bridges) == 0 {
			continue
		}
		tools, ok := r.toolsOf(srv.Name)
		if !ok {
			continue
		}
		if policies == nil {
			policies = r.policies()
		}
		p := policies[srv.Name]
		// New slices for each snapshot: the tray keeps snapshots and compares them.
		srv.Tools = make([]string, 0, len(tools))
		for _, t := range tools {
			srv.Tools = append(srv.Tools, t.Name)
			if p.Hides(t.Name, t.ReadOnly) {
				srv.Hidden = append(srv.Hidden, t.Name)
			}
		}
		slices.Sort(srv.Tools)
		slices.Sort(srv.Hidden)
	}
	for name := range r.tools {
		if _, ok := s.Server(name); !ok {
			delete(r.tools, name) // a server removed from the configuration
		}
	}
}

// toolsOf returns the tools the bridges last listed of server, parsing its file only when it
// changed since the last read.
func (r *toolsReader) toolsOf(server string) ([]toolpolicy.Tool, bool) {
	st, ok := stampOf(toolpolicy.Path(r.dir, server))
	if !ok {
		delete(r.tools, server)
		return nil, false
	}
	if p, ok := r.tools[server]; ok && p.stamp == st {
		return p.tools, p.ok
	}
	seen, err := r.load(r.dir, server)
	p := parsedTools{stamp: st, tools: seen.Tools, ok: err == nil}
	r.tools[server] = p
	return p.tools, p.ok
}

// policies returns the tool settings of every server, parsing the configuration only when it
// changed since the last read. An unreadable configuration hides nothing (the snapshot
// reports it).
func (r *toolsReader) policies() map[string]toolpolicy.Policy {
	st, ok := stampOf(r.config)
	if ok && r.settings.read && r.settings.stamp == st {
		return r.settings.policies
	}
	policies := map[string]toolpolicy.Policy{}
	if f, err := r.loadConfig(r.config); err == nil {
		for _, srv := range f.Servers {
			policies[srv.Name] = toolpolicy.FromServer(srv)
		}
	}
	r.settings = parsedSettings{stamp: st, read: ok, policies: policies}
	return policies
}
