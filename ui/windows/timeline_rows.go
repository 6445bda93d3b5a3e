package windows

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/bridge/traffic"
)

// rowKind is what a row of the Timeline shows.
type rowKind uint8

const (
	rowSession rowKind = iota // a session's title: server and bridge process
	rowBreak                  // the line between two sessions
	rowEvent                  // an event's summary, or a line of it when it wraps
	rowBody                   // a line of an event's body
	rowOmitted                // why an event's body is not shown
)

// timelineRow is one line of the Timeline. Every row has the same height, so the list needs
// no height per row (widget.List.SetItemHeight refreshes the whole list, and every row's
// index moves when the oldest events go): long lines are wrapped into rows here instead.
type timelineRow struct {
	kind rowKind
	text string
	// failed marks the lines of an error answer or a failed step, shown in the danger colour.
	failed bool
}

// timelineRows lays out the events that pass f: one block per session (bridge process),
// newest session last, each event's summary and then its body, with times in zone. Event
// lines wrap at cols characters and body lines at bodyCols; 0 wraps only at newlines.
func timelineRows(events []traffic.Event, f traffic.Filter, zone *time.Location, cols, bodyCols int) []timelineRow {
	var kept []traffic.Event
	for _, e := range events {
		if f.Keep(e) {
			kept = append(kept, e)
		}
	}
	var rows []timelineRow
	for i, s := range traffic.Sessions(kept) {
		if i > 0 {
			rows = append(rows, timelineRow{kind: rowBreak})
		}
		rows = append(rows, timelineRow{kind: rowSession, text: s.Server + " — session " + strconv.Itoa(s.PID)})
		for _, e := range s.Events {
			// The summary's fields, two spaces apart, wrap whole where they can, under the
			// summary's start like a terminal's hanging indent.
			at := e.Time.In(zone).Format("15:04:05.000") + "  "
			hang := strings.Repeat(" ", len(at))
			for i, line := range wrapLines(e.Summary(), max(0, cols-len(at)), "  ") {
				if i > 0 {
					at = hang
				}
				rows = append(rows, timelineRow{kind: rowEvent, text: at + line, failed: e.Failed()})
			}
			switch {
			case len(e.Body) > 0:
				for _, line := range wrapLines(string(e.Body), bodyCols, "") {
					rows = append(rows, timelineRow{kind: rowBody, text: line})
				}
			case e.Omitted != "":
				rows = append(rows, timelineRow{kind: rowOmitted, text: "Body not shown: " + e.Omitted + "."})
			}
		}
	}
	return rows
}

// wrapLines splits text at its newlines and then into lines of at most cols characters
// (runes): at the last sep that fits, which it drops, or when there is none (or sep is "")
// after cols characters, as a label in a monospaced font with fyne.TextWrapBreak does.
// cols <= 0 splits at newlines only.
func wrapLines(text string, cols int, sep string) []string {
	var lines []string
	for line := range strings.SplitSeq(strings.TrimSuffix(text, "\n"), "\n") {
		for cols > 0 && utf8.RuneCountInString(line) > cols {
			cut := 0
			for range cols {
				_, n := utf8.DecodeRuneInString(line[cut:])
				cut += n
			}
			next := cut
			if i := strings.LastIndex(line[:cut+min(len(sep), len(line)-cut)], sep); sep != "" && i > 0 {
				cut, next = i, i+len(sep)
			}
			lines = append(lines, line[:cut])
			line = line[next:]
		}
		lines = append(lines, line)
	}
	return lines
}

// newTimelineList is the Timeline's virtualized list of t.rows: it creates widgets for the
// rows on screen only.
func newTimelineList(t *Timeline) *widget.List {
	l := widget.NewList(func() int { return len(t.rows) }, newTimelineItem, func(id widget.ListItemID, o fyne.CanvasObject) {
		if id >= 0 && id < len(t.rows) {
			updateTimelineItem(o, t.rows[id])
		}
	})
	l.HideSeparators = true
	// Rows are lines of text, not choices: a tap selects nothing.
	l.OnSelected = func(id widget.ListItemID) { l.Unselect(id) }
	return l
}

// columns is how many characters of the monospaced font fit on a row of l, less indent; 0
// while l has no width yet.
func columns(l *widget.List, indent float32) int {
	w := l.Size().Width
	if w <= 0 {
		return 0
	}
	th := l.Theme()
	char := fyne.MeasureText("0000000000", th.Size(theme.SizeNameText), fyne.TextStyle{Monospace: true}).Width / 10
	return max(1, int((w-indent-2*th.Size(theme.SizeNameInnerPadding)-1)/char))
}

// timelineLayout lays the Timeline's list out over its whole area. When that area changes it
// rewraps the rows (when the columns changed), and keeps the list at the bottom of its rows
// if it was there before: a list laid out for the first time, or taller, moves its offset.
type timelineLayout struct {
	t    *Timeline
	size fyne.Size
}

func (l *timelineLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	follow := l.t.following()
	for _, o := range objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
	if size == l.size {
		return
	}
	l.size = size
	l.t.render()
	if follow {
		l.t.toBottom()
	}
}

func (l *timelineLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var min fyne.Size
	for _, o := range objects {
		min = min.Max(o.MinSize())
	}
	return min
}

// newTimelineItem is the widget of a row: one part per rowKind, all but one hidden. All
// are shown here, so the template is as tall as the tallest and every row fits.
func newTimelineItem() fyne.CanvasObject {
	title := section("")
	title.Truncation = fyne.TextTruncateEllipsis
	line := mono("")
	line.Wrapping, line.Truncation = fyne.TextWrapOff, fyne.TextTruncateClip
	body := mono("")
	body.Wrapping, body.Truncation = fyne.TextWrapOff, fyne.TextTruncateClip
	omitted := note("")
	omitted.Wrapping, omitted.Truncation = fyne.TextWrapOff, fyne.TextTruncateEllipsis
	return container.NewStack(title, container.NewVBox(layout.NewSpacer(), widget.NewSeparator(), layout.NewSpacer()), line, indented(body), indented(omitted))
}

// updateTimelineItem shows row in o, a widget from newTimelineItem.
func updateTimelineItem(o fyne.CanvasObject, row timelineRow) {
	parts := o.(*fyne.Container).Objects
	for i, p := range parts {
		if rowKind(i) == row.kind {
			p.Show()
		} else {
			p.Hide()
		}
	}
	switch row.kind {
	case rowSession:
		parts[rowSession].(*widget.Label).SetText(row.text)
	case rowEvent:
		l := parts[rowEvent].(*widget.Label)
		l.Importance = widget.MediumImportance
		if row.failed {
			l.Importance = widget.DangerImportance
		}
		l.SetText(row.text)
	case rowBody:
		parts[rowBody].(*fyne.Container).Objects[0].(*widget.Label).SetText(row.text)
	case rowOmitted:
		setNote(parts[rowOmitted].(*fyne.Container).Objects[0].(*widget.RichText), row.text)
	}
}

// rowsTheme is the theme of the Timeline's rows: compactTheme with no padding between rows
// and half its inner padding within them, so that the rows, which are all as tall as the
// tallest, read as the lines of a log.
type rowsTheme struct{ compactTheme }

func (t rowsTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNamePadding:
		return 0
	case theme.SizeNameInnerPadding:
		return t.compactTheme.Size(n) / 2
	}
	return t.compactTheme.Size(n)
}
