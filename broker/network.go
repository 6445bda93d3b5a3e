package broker

import (
	"os"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
)

// NetworkFrom returns how to reach servers as the configuration file at path ("" means the one
// getenv's variables choose: see config.PathFrom) and the environment (getenv; nil means
// os.Getenv) say: the configuration's proxy and CA file, the proxy variables and
// MCP_BROKER_CA_FILE (see httpclient.Settings). A missing file is no setting at all. Open
// builds the Broker's from it; `doctor` and the tray's diagnosis, which need no Broker, build
// theirs here too, so that every client of the program reaches servers the same way.
func NetworkFrom(path string, getenv func(string) string) (*httpclient.Network, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	f, _, err := loadConfig(path, getenv)
	if err != nil {
		return nil, err
	}
	return networkOf(f, getenv)
}

// loadConfig reads the configuration at path, or where getenv says it is when path is "",
// and returns it with its path.
func loadConfig(path string, getenv func(string) string) (*config.File, string, error) {
	if path == "" {
		p, err := config.PathFrom(getenv)
		if err != nil {
			return nil, "", err
		}
		path = p
	}
	f, err := config.Load(path)
	if err != nil {
		return nil, "", err
	}
	return f, path, nil
}

// networkOf is the Network of the loaded configuration f and the environment getenv.
func networkOf(f *config.File, getenv func(string) string) (*httpclient.Network, error) {
	// Load leaves the file as the user wrote it: a password put in it by hand is refused here,
	// as Save refuses to write one.
	if err := config.ValidateProxy(f.Proxy); err != nil {
		return nil, err
	}
	if err := config.ValidateCAFile(f.CAFile); err != nil {
		return nil, err
	}
	return httpclient.NewNetwork(httpclient.Settings{Proxy: f.Proxy, CAFile: f.CAFile, Getenv: getenv})
}

// Network returns how this Broker reaches servers, for the other clients of the program (the
// bridge's) to reach them the same way.
func (b *Broker) Network() *httpclient.Network { return b.network }
