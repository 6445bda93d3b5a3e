package windows

import (
	"fmt"
	"image/color"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The building blocks every window shares, so that headings, hints, errors
// and key/value rows look the same everywhere.

// heading is the title at the top of a window's content.
func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	l.Wrapping = fyne.TextWrapWord
	return l
}

// section is the title of a group of rows inside a window.
func section(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// quiet is secondary text in the theme's placeholder colour: readable, but
// a step back from the values it explains. (A low-importance Label would use
// the disabled colour, which is too faint to read in the light theme.)
func quiet(text string, size fyne.ThemeSizeName, align fyne.TextAlign) *widget.RichText {
	rt := widget.NewRichText(&widget.TextSegment{Text: text, Style: widget.RichTextStyle{
		Alignment: align,
		ColorName: theme.ColorNamePlaceHolder,
		Inline:    true,
		SizeName:  size,
	}})
	rt.Wrapping = fyne.TextWrapWord
	return rt
}

// setQuiet changes quiet text, hiding it when empty so it takes no room.
func setQuiet(rt *widget.RichText, text string) {
	rt.Segments[0].(*widget.TextSegment).Text = text
	if text == "" {
		rt.Hide()
	} else {
		rt.Show()
	}
	rt.Refresh()
}

// note is a quiet, wrapped sentence: an explanation under a heading.
func note(text string) *widget.RichText {
	return quiet(text, theme.SizeNameText, fyne.TextAlignLeading)
}

// hint is quiet text in the caption size, under a form field.
func hint(text string) *widget.RichText {
	rt := quiet(text, theme.SizeNameCaptionText, fyne.TextAlignLeading)
	if text == "" {
		rt.Hide()
	}
	return rt
}

// errorLabel is a red, wrapped message that stays hidden while it is empty.
func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.DangerImportance
	l.Hide()
	return l
}

// setMessage sets a label's text and shows it, or hides it when text is empty,
// so an empty message takes no room.
func setMessage(l *widget.Label, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// mono is a selectable label in the monospace font, for paths, JSON and
// commands that people may want to copy by hand.
func mono(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Wrapping = fyne.TextWrapBreak
	l.Selectable = true
	return l
}

// gap is fixed vertical space between groups, a little more than the
// padding between rows, so that groups read as groups.
func gap() fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(0, theme.Padding()*2))
	return r
}

// rows lays out key/value pairs in two aligned columns: keys on the left,
// quiet and right-aligned, values on the right. Pairs with an empty value are
// left out, so callers can pass optional rows without branching.
func rows(pairs ...string) *fyne.Container {
	c := container.New(layout.NewFormLayout())
	for i := 0; i+1 < len(pairs); i += 2 {
		addRow(c, pairs[i], pairs[i+1], widget.MediumImportance)
	}
	return c
}

// addRow adds one key/value pair to a rows container, the value in the
// given importance (DangerImportance for an error); an empty value adds
// nothing.
func addRow(c *fyne.Container, key, value string, imp widget.Importance) {
	if value == "" {
		return
	}
	k := quiet(key, theme.SizeNameText, fyne.TextAlignTrailing)
	k.Wrapping = fyne.TextWrapOff
	v := widget.NewLabel(value)
	v.Wrapping = fyne.TextWrapWord
	v.Importance = imp
	c.Add(k)
	c.Add(v)
}

// compact draws o with less padding inside each label, for dense lists of
// details. It follows the app's theme, so a change of theme still applies.
func compact(o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewThemeOverride(o, compactTheme{})
}

// indented moves o a little to the right, under a title.
func indented(o fyne.CanvasObject) fyne.CanvasObject {
	p := theme.Padding()
	return container.New(layout.NewCustomPaddedLayout(0, 0, 3*p, 0), o)
}

// page is a window's content: body in a scroll area with a margin (and room
// on the right for the scroll bar), and the buttons, if any, pinned below.
func page(body, buttons fyne.CanvasObject) fyne.CanvasObject {
	p := theme.Padding()
	scroll := container.NewVScroll(container.New(layout.NewCustomPaddedLayout(p, 2*p, 2*p, 4*p), body))
	if buttons == nil {
		return scroll
	}
	bottom := container.New(layout.NewCustomPaddedLayout(p, p, 2*p, 2*p), buttons)
	return container.NewBorder(nil, bottom, nil, nil, scroll)
}

// tight stacks objects without padding between them, for text that belongs
// together (a field's hint and its error).
func tight(objects ...fyne.CanvasObject) *fyne.Container {
	return container.New(layout.NewCustomPaddedVBoxLayout(0), objects...)
}

// compactTheme is the app's current theme with a smaller inner padding.
type compactTheme struct{}

func current() fyne.Theme { return fyne.CurrentApp().Settings().Theme() }

func (compactTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return current().Color(n, v)
}
func (compactTheme) Font(s fyne.TextStyle) fyne.Resource     { return current().Font(s) }
func (compactTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return current().Icon(n) }
func (compactTheme) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameInnerPadding {
		return current().Size(n) / 2
	}
	return current().Size(n)
}

// badge is a coloured icon and word for a state, such as "Signed in".
func badge(text string, imp widget.Importance) *fyne.Container {
	l := widget.NewLabel(text)
	l.Importance = imp
	return container.NewHBox(widget.NewIcon(importanceIcon(imp)), l)
}

// importanceIcon is the icon that goes with a state's importance.
func importanceIcon(imp widget.Importance) fyne.Resource {
	switch imp {
	case widget.SuccessImportance:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case widget.WarningImportance:
		return theme.NewWarningThemedResource(theme.WarningIcon())
	case widget.DangerImportance:
		return theme.NewErrorThemedResource(theme.ErrorIcon())
	case widget.HighImportance:
		return theme.NewPrimaryThemedResource(theme.InfoIcon())
	default:
		return theme.NewDisabledResource(theme.InfoIcon())
	}
}

// outcome is the result of an action: an icon in the colour of imp and a
// wrapped sentence. Only a failure is written in colour: green and orange
// text is hard to read on a light background, and the icon says enough.
type outcome struct {
	box   *fyne.Container
	icon  *widget.Icon
	label *widget.Label
}

func newOutcome() *outcome {
	o := &outcome{icon: widget.NewIcon(nil), label: widget.NewLabel("")}
	o.label.Wrapping = fyne.TextWrapWord
	// Line the icon up with the first line of text, below the label's padding.
	line := fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{}).Height
	top := theme.InnerPadding() + (line-theme.IconInlineSize())/2
	icon := container.New(layout.NewCustomPaddedLayout(top, 0, 0, 0), o.icon)
	o.box = container.NewBorder(nil, nil, container.NewVBox(icon), nil, o.label)
	o.box.Hide()
	return o
}

// set shows text with the icon of imp, or hides the outcome for "".
func (o *outcome) set(text string, imp widget.Importance, bold bool) {
	if text == "" {
		o.box.Hide()
		return
	}
	o.icon.SetResource(importanceIcon(imp))
	o.label.Importance = widget.MediumImportance
	if imp == widget.DangerImportance {
		o.label.Importance = imp
	}
	o.label.TextStyle.Bold = bold
	o.label.SetText(text)
	o.box.Show()
}

// titleRow puts a bold title on the left and a badge on the right.
func titleRow(title string, right fyne.CanvasObject) *fyne.Container {
	t := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	t.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, nil, nil, right, t)
}

// sentence makes an error message (lowercase, no final period, by Go
// convention) readable as a sentence in a window. A first word that is a
// name (a host, a path, an identifier) keeps its case.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	first, rest, _ := strings.Cut(msg, " ")
	switch {
	case first == "url": // config's word for the field people know as the URL
		msg = "URL " + rest
	case !strings.ContainsAny(first, `./:_@="'`+"`"):
		r, n := utf8.DecodeRuneInString(msg)
		msg = string(unicode.ToUpper(r)) + msg[n:]
	}
	if !strings.HasSuffix(msg, ".") && !strings.HasSuffix(msg, "?") && !strings.HasSuffix(msg, "!") {
		msg += "."
	}
	return msg
}

// explain gives an error one sentence of context: what failed, then the
// error itself (without the server's name: the window is about that server)
// and the next step, in the app's words (Advice), for a window other than
// the main one.
func explain(what string, err error) string { return explainWith(what, err, Advice) }

// explainHere is explain for the main window, under the server the error is
// about, whose buttons are right there (adviceHere).
func explainHere(what string, err error) string { return explainWith(what, err, adviceHere) }

func explainWith(what string, err error, advise func(error) string) string {
	msg := what + " " + sentence(withoutServer(err).Error())
	if next := advise(err); next != "" {
		msg += " " + next
	}
	return msg
}

// Times are shown relative to now and absolute ("in 42 min (14:32)"): the
// relative part answers "should I worry", the absolute part matches clocks.

// span is a duration in words: "less than a minute", "42 min", "2 h 5 min",
// "3 days". It rounds down, so "expires in 42 min" never overstates.
func span(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	default:
		days := int(d / (24 * time.Hour))
		if days == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", days)
	}
}

// clock is t in now's time zone: "14:32" today, "3 Jan 14:32" this year,
// "3 Jan 2027 14:32" otherwise.
func clock(now, t time.Time) string {
	t = t.In(now.Location())
	y1, m1, d1 := now.Date()
	y2, m2, d2 := t.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return t.Format("15:04")
	case y1 == y2:
		return t.Format("2 Jan 15:04")
	default:
		return t.Format("2 Jan 2006 15:04")
	}
}

// expiry describes when a token expires or expired.
func expiry(now time.Time, at *time.Time) string {
	if at == nil || at.IsZero() {
		return "no expiry given"
	}
	if at.After(now) {
		return fmt.Sprintf("expires in %s (%s)", span(at.Sub(now)), clock(now, *at))
	}
	return fmt.Sprintf("expired %s ago (%s)", span(now.Sub(*at)), clock(now, *at))
}

// since describes a past moment: "14:02 (30 min ago)".
func since(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if t.After(now) {
		return clock(now, t)
	}
	return fmt.Sprintf("%s (%s ago)", clock(now, t), span(now.Sub(t)))
}
