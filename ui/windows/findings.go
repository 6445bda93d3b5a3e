package windows

import (
	"fmt"
	"runtime"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/broker/doctor"
	hints "github.com/mcp-broker/mcp-broker/broker/hint"
)

// A diagnosis report (package doctor) shown as a list: per finding an icon
// for its severity, the checklist item, the detail, and for a problem the
// next step. The server form and the diagnosis window share it.

// reportView shows rep: a verdict, then one row per finding.
func reportView(rep *doctor.Report) fyne.CanvasObject {
	verdict, imp := reportVerdict(rep)
	v := newOutcome()
	v.set(verdict, imp, true)
	list := container.NewVBox()
	for _, line := range rep.Network {
		// How the server is reached: direct or through which proxy, and a CA file.
		n := widget.NewLabel(sentenceCase(line))
		n.Wrapping = fyne.TextWrapWord
		n.Importance = widget.LowImportance
		list.Add(n)
	}
	for _, f := range rep.Findings {
		list.Add(findingRow(f))
	}
	return container.NewVBox(v.box, compact(list))
}

// reportVerdict sums rep up in one sentence, like `mcp-broker doctor` does.
func reportVerdict(rep *doctor.Report) (string, widget.Importance) {
	var warns, fails int
	for _, f := range rep.Findings {
		switch f.Severity {
		case doctor.Warn:
			warns++
		case doctor.Fail:
			fails++
		}
	}
	switch {
	case fails > 0:
		return fmt.Sprintf("%s: mcp-broker will not be able to sign in to or connect to this server.",
			plural(fails, "blocking problem", "blocking problems")), widget.DangerImportance
	case warns > 0:
		return fmt.Sprintf("No blocking problems; %s.", plural(warns, "warning", "warnings")), widget.WarningImportance
	}
	return "No problems found.", widget.SuccessImportance
}

// findingRow is one finding: icon, item, detail and, for a problem, what to do.
func findingRow(f doctor.Finding) fyne.CanvasObject {
	item := widget.NewLabelWithStyle(f.Item, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	if f.Severity == doctor.Fail {
		item.Importance = widget.DangerImportance
	}
	icon := widget.NewIcon(severityIcon(f.Severity))
	// The border layout centres the icon on the item's line.
	title := container.NewBorder(nil, nil, icon, nil, item)
	text := tight()
	if d := strings.TrimSpace(f.Detail); d != "" {
		detail := widget.NewLabel(sentenceCase(d))
		detail.Wrapping = fyne.TextWrapWord
		if f.Severity == doctor.Fail {
			detail.Importance = widget.DangerImportance
		}
		text.Add(detail)
	}
	if step := nextStep(f); step != "" {
		next := widget.NewLabelWithStyle(step, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		next.Wrapping = fyne.TextWrapWord
		text.Add(next)
	}
	// The detail lines up with the item, right of the icon.
	left := theme.IconInlineSize() + theme.Padding()
	return tight(title, container.New(layout.NewCustomPaddedLayout(0, 0, left, 0), text))
}

// severityIcon is the icon of a finding's severity, in its colour.
func severityIcon(s doctor.Severity) fyne.Resource {
	switch s {
	case doctor.OK:
		return importanceIcon(widget.SuccessImportance)
	case doctor.Warn:
		return importanceIcon(widget.WarningImportance)
	case doctor.Fail:
		return importanceIcon(widget.DangerImportance)
	}
	return theme.NewDisabledResource(theme.InfoIcon())
}

// nextStep says what a person can do about a problem, by checklist item (the
// item names of package doctor). Findings that need nothing get none.
func nextStep(f doctor.Finding) string {
	if f.Severity != doctor.Warn && f.Severity != doctor.Fail {
		return ""
	}
	if f.Hint != hints.None {
		return advice(f.Hint, runtime.GOOS, place{})
	}
	switch f.Item {
	case "server":
		return "Check the URL (it is the MCP endpoint, often ending in /mcp) and that the server is running and reachable from this computer."
	case "401 challenge":
		return "Nothing to do: sign-in still works through the well-known URLs. The server's operator can add the challenge."
	case "resource metadata":
		if f.Severity == doctor.Warn {
			return "Nothing to do: mcp-broker supports this older kind of server."
		}
		return "Check that the URL is the MCP endpoint itself; if it is, the server's operator has to fix its OAuth metadata."
	case "resource check":
		return "Use exactly the URL the server's metadata names, or ask its operator to correct the metadata."
	case "auth server", "endpoints", "PKCE S256":
		return "Only the server's operator can fix this: send them this report."
	case "registration":
		return "Ask the server's operator for a client id and enter it under Client ID."
	case "grant types":
		if f.Severity == doctor.Warn {
			return "" // the detail says what it means: sign in again when the token expires
		}
		return "For a machine client, choose OAuth client credentials as the sign-in method; otherwise ask the server's operator."
	case "Streamable HTTP", "legacy SSE":
		return "Check the URL, or choose the transport the server's documentation names."
	}
	if f.Severity == doctor.Fail {
		return "mcp-broker cannot use this server until this is fixed: send the report to the server's operator."
	}
	return ""
}
