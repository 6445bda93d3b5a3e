package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
)

// configKey is a setting of the whole configuration file (not of one server) that `config`
// reads and writes.
type configKey struct {
	name  string
	about string
	get   func(*config.File) string
	// set checks and stores a value, made ready by prepare first.
	set func(*config.File, string) error
	// prepare turns what the person typed into the value to store ("" when nothing to do).
	prepare func(a *app, value string) (string, error)
}

// configKeys are the settings `config` knows, in the order `config get` shows them.
var configKeys = []configKey{
	{
		name:  "proxy",
		about: `"direct", or a proxy URL such as http://proxy.example.com:3128; unset: HTTPS_PROXY, else the system's settings`,
		get:   func(f *config.File) string { return f.Proxy },
		set: func(f *config.File, v string) error {
			if err := config.ValidateProxy(v); err != nil {
				return usageError{err.Error()}
			}
			f.Proxy = v
			return nil
		},
		prepare: func(_ *app, v string) (string, error) {
			if v == httpclient.ProxyDirect {
				return v, nil
			}
			if err := config.ValidateProxy(v); err != nil {
				return "", usageError{err.Error()}
			}
			u, err := httpclient.ParseProxy(v) // as it is read: "host:port" is http://host:port
			if err != nil {
				return "", usageError{err.Error()}
			}
			return u.String(), nil
		},
	},
	{
		name:  "ca_file",
		about: "a PEM file of certificate authorities trusted besides the system's (" + httpclient.EnvCAFile + " overrides it)",
		get:   func(f *config.File) string { return f.CAFile },
		set: func(f *config.File, v string) error {
			if err := config.ValidateCAFile(v); err != nil {
				return usageError{err.Error()}
			}
			f.CAFile = v
			return nil
		},
		prepare: func(a *app, v string) (string, error) {
			if !filepath.IsAbs(v) {
				wd, err := a.env.Getwd()
				if err != nil {
					return "", err
				}
				v = filepath.Join(wd, v)
			}
			// Read it now: a file that holds no certificate would break every command later.
			if err := httpclient.CheckCAFile(v); err != nil {
				return "", fmt.Errorf("ca_file %s: %w", v, err)
			}
			return v, nil
		},
	},
}

func findConfigKey(name string) (configKey, error) {
	i := slices.IndexFunc(configKeys, func(k configKey) bool { return k.name == name })
	if i < 0 {
		names := make([]string, len(configKeys))
		for i, k := range configKeys {
			names[i] = k.name
		}
		return configKey{}, usageError{fmt.Sprintf("unknown setting %q: use %s", name, strings.Join(names, " or "))}
	}
	return configKeys[i], nil
}

func (a *app) configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show or change the settings of every server: the proxy and the CA file",
		Long: `Show or change the settings that apply to every server, kept in the configuration file
(config.json) beside the servers. Every command, every bridge and the tray use them.

Settings:
`,
		Example: `  mcp-broker config set proxy http://proxy.example.com:3128
  mcp-broker config set proxy direct
  mcp-broker config set ca_file /etc/ssl/corp-root-ca.pem
  mcp-broker config get
  mcp-broker config unset proxy`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE("get, set or unset"),
	}
	for _, k := range configKeys {
		cmd.Long += fmt.Sprintf("  %-8s %s\n", k.name, k.about)
	}
	cmd.AddCommand(a.configGetCmd(), a.configSetCmd(), a.configUnsetCmd())
	return cmd
}

func (a *app) configGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get [SETTING]",
		Short: "Show the settings, or the value of one (empty when it is not set)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, f, err := a.loadConfig()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				k, err := findConfigKey(args[0])
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, k.get(f))
				return nil
			}
			for _, k := range configKeys {
				v := k.get(f)
				if v == "" {
					v = "(not set)"
				}
				fmt.Fprintf(a.stdout, "%s: %s\n", k.name, v)
			}
			return nil
		},
	}
}

func (a *app) configSetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "set SETTING VALUE",
		Short: "Change a setting",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := findConfigKey(args[0])
			if err != nil {
				return err
			}
			v := strings.TrimSpace(args[1])
			if v == "" {
				return usageError{"an empty value: use `mcp-broker config unset " + k.name + "`"}
			}
			if k.prepare != nil {
				if v, err = k.prepare(a, v); err != nil {
					return err
				}
			}
			if err := a.updateConfig(cmd, func(f *config.File) error { return k.set(f, v) }); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "%s is %s.\n", k.name, v)
			return nil
		},
	}
}

func (a *app) configUnsetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "unset SETTING",
		Short: "Remove a setting: back to the default",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := findConfigKey(args[0])
			if err != nil {
				return err
			}
			if err := a.updateConfig(cmd, func(f *config.File) error { return k.set(f, "") }); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "%s is not set.\n", k.name)
			return nil
		},
	}
}

// loadConfig reads the configuration file the environment names (config.PathFrom), and
// returns its path with it.
func (a *app) loadConfig() (string, *config.File, error) {
	path, err := config.PathFrom(a.env.Getenv)
	if err != nil {
		return "", nil, err
	}
	f, err := config.Load(path)
	if err != nil {
		return "", nil, err
	}
	return path, f, nil
}

// updateConfig changes the configuration file under its lock.
func (a *app) updateConfig(cmd *cobra.Command, fn func(*config.File) error) error {
	path, err := config.PathFrom(a.env.Getenv)
	if err != nil {
		return err
	}
	return config.Update(cmd.Context(), path, fn)
}
