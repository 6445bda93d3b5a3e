package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/broker"
)

// tokensHow says how `tools` estimates what a tool costs in Claude Code's context.
const tokensHow = "Tokens are estimated as the bytes of each tool's definition as the server sends it (name, description, inputSchema, annotations) divided by 4."

func (a *app) toolsCmd() *cobra.Command {
	var (
		hide, show []string
		readOnly   string
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "tools NAME",
		Short: "List a server's tools and what they cost in Claude Code's context; hide some",
		Long: `List the tools of a server as a bridge last saw them (the last answer to tools/list it
relayed), each with an estimate of what its definition costs in Claude Code's context, and
whether it is hidden. ` + tokensHow + `

--hide TOOL and --show TOOL (repeatable) hide a tool from Claude Code and show it again;
--read-only on hides every tool the server does not annotate readOnlyHint: true. The bridges
enforce both: hidden tools leave tools/list and a call of one is refused. A bridge running for
the server applies a change within a second, and tells Claude Code to list the tools again.`,
		Example: `  mcp-broker tools studio
  mcp-broker tools studio --hide delete_page --hide move_page
  mcp-broker tools studio --show delete_page
  mcp-broker tools studio --read-only on`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			change := broker.ToolChange{Hide: hide, Show: show}
			switch readOnly {
			case "":
			case "on", "off":
				on := readOnly == "on"
				change.ReadOnly = &on
			default:
				return usageError{"--read-only takes on or off"}
			}
			if both := slices.DeleteFunc(slices.Clone(hide), func(t string) bool { return !slices.Contains(show, t) }); len(both) > 0 {
				return usageError{fmt.Sprintf("--hide and --show both name %s", both[0])}
			}
			if len(hide) > 0 || len(show) > 0 || change.ReadOnly != nil {
				b, err := a.broker(cmd.Context())
				if err != nil {
					return err
				}
				if err := b.ChangeTools(cmd.Context(), name, change); err != nil {
					return err
				}
			}
			return a.printTools(name, asJSON)
		},
	}
	cmd.Flags().StringArrayVar(&hide, "hide", nil, "hide this tool from Claude Code (repeatable)")
	cmd.Flags().StringArrayVar(&show, "show", nil, "show this tool again (repeatable)")
	cmd.Flags().StringVar(&readOnly, "read-only", "", "on: hide every tool not annotated readOnlyHint; off: stop")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// toolsJSON is `tools --json`.
type toolsJSON struct {
	Server   string     `json:"server"`
	ReadOnly bool       `json:"read_only"`
	Hidden   []string   `json:"hidden_tools"`
	Seen     *time.Time `json:"seen,omitempty"`
	Tools    []toolJSON `json:"tools"`
}

type toolJSON struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	ReadOnly    bool   `json:"read_only"`
	Shown       bool   `json:"shown"`
	Bytes       int    `json:"bytes"`
	Tokens      int    `json:"tokens"`
}

// printTools prints the server's tool settings and the tools last seen.
func (a *app) printTools(name string, asJSON bool) error {
	_, f, err := a.loadConfig()
	if err != nil {
		return err
	}
	srv, ok := f.Server(name)
	if !ok {
		return &broker.UnknownServerError{Name: name}
	}
	policy := toolpolicy.FromServer(*srv)
	var seen toolpolicy.Seen
	seenErr := toolpolicy.ErrNotSeen
	if dir, err := a.env.UserCacheDir(); err == nil {
		seen, seenErr = toolpolicy.Load(toolpolicy.Dir(dir), name)
	}
	if seenErr != nil && !errors.Is(seenErr, toolpolicy.ErrNotSeen) {
		return seenErr
	}
	doc := toolsJSON{Server: name, ReadOnly: policy.ReadOnly, Hidden: policy.Hidden, Tools: []toolJSON{}}
	if doc.Hidden == nil {
		doc.Hidden = []string{}
	}
	if seenErr == nil {
		doc.Seen = &seen.Saved
	}
	for _, t := range seen.Tools {
		doc.Tools = append(doc.Tools, toolJSON{Name: t.Name, Description: t.Description, ReadOnly: t.ReadOnly,
			Shown: !policy.Hides(t.Name, t.ReadOnly), Bytes: t.Bytes, Tokens: t.Tokens()})
	}
	if asJSON {
		return writeJSON(a.stdout, doc)
	}
	mode := "off"
	if policy.ReadOnly {
		mode = "on (only tools annotated readOnlyHint are shown)"
	}
	if doc.Seen == nil {
		fmt.Fprintf(a.stdout, "No bridge has listed the tools of %s yet: use it in Claude Code, then run this again.\n", name)
		fmt.Fprintf(a.stdout, "Read-only mode: %s.\n", mode)
		if len(policy.Hidden) > 0 {
			fmt.Fprintf(a.stdout, "Hidden: %s.\n", strings.Join(policy.Hidden, ", "))
		}
		return nil
	}
	fmt.Fprintf(a.stdout, "Tools of %s, as a bridge last saw them (%s). Read-only mode: %s.\n", name, seen.Saved.Local().Format("2006-01-02 15:04"), mode)
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOOL\tSHOWN\tREAD-ONLY\t~TOKENS")
	shown, shownTokens, hiddenTokens := 0, 0, 0
	for _, t := range doc.Tools {
		state := "yes"
		if !t.Shown {
			state = "hidden"
			hiddenTokens += t.Tokens
		} else {
			shown++
			shownTokens += t.Tokens
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", t.Name, state, yesNo(t.ReadOnly), t.Tokens)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Shown: %d of %d tools, about %d tokens (hidden: about %d).\n", shown, len(doc.Tools), shownTokens, hiddenTokens)
	var absent []string
	for _, h := range policy.Hidden {
		if !slices.ContainsFunc(seen.Tools, func(t toolpolicy.Tool) bool { return t.Name == h }) {
			absent = append(absent, h)
		}
	}
	if len(absent) > 0 {
		fmt.Fprintf(a.stdout, "Hidden but not in the last list: %s.\n", strings.Join(absent, ", "))
	}
	fmt.Fprintln(a.stdout, tokensHow)
	return nil
}

// yesNo words a flag for a table.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
