//go:build cgo && (linux || freebsd || openbsd || netbsd)

package xwin

/*
#cgo pkg-config: x11
#include <stdlib.h>
#include <string.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

// ignoreErrors replaces Xlib's default error handler, which exits the process: a window can
// vanish between listing it and asking for its name (a menu closing), and that is no error here.
static int ignoreErrors(Display *d, XErrorEvent *e) { return 0; }

static Display *openDisplay(void) {
	XSetErrorHandler(ignoreErrors);
	return XOpenDisplay(NULL);
}

// find returns the first window below w (depth first) whose WM_NAME is title, or 0.
static Window find(Display *d, Window w, const char *title) {
	char *name = NULL;
	if (XFetchName(d, w, &name) && name != NULL) {
		int same = strcmp(name, title) == 0;
		XFree(name);
		if (same) return w;
	}
	Window root, parent, *children = NULL;
	unsigned int n = 0;
	if (!XQueryTree(d, w, &root, &parent, &children, &n)) return 0;
	Window found = 0;
	for (unsigned int i = 0; i < n && !found; i++) found = find(d, children[i], title);
	if (children) XFree(children);
	return found;
}

// exists reports whether a window has the title: 1 yes, 0 no, -1 no display.
static int exists(const char *title) {
	Display *d = openDisplay();
	if (!d) return -1;
	Window w = find(d, DefaultRootWindow(d), title);
	XCloseDisplay(d);
	return w != 0;
}

// closeWindow sends WM_DELETE_WINDOW to the window with the title: 0 sent, 1 not found,
// -1 no display.
static int closeWindow(const char *title) {
	Display *d = openDisplay();
	if (!d) return -1;
	Window w = find(d, DefaultRootWindow(d), title);
	if (!w) { XCloseDisplay(d); return 1; }
	// Move the pointer off the window first, as a person reaching for a window manager's close
	// button does: Fyne 2.7 handles a pointer event that arrives for a window it is closing by
	// dereferencing the window it has just let go of.
	Screen *s = DefaultScreenOfDisplay(d);
	XWarpPointer(d, None, DefaultRootWindow(d), 0, 0, 0, 0, WidthOfScreen(s) - 1, HeightOfScreen(s) - 1);
	XSync(d, False);
	XEvent ev;
	memset(&ev, 0, sizeof ev);
	ev.xclient.type = ClientMessage;
	ev.xclient.window = w;
	ev.xclient.message_type = XInternAtom(d, "WM_PROTOCOLS", False);
	ev.xclient.format = 32;
	ev.xclient.data.l[0] = XInternAtom(d, "WM_DELETE_WINDOW", False);
	ev.xclient.data.l[1] = CurrentTime;
	XSendEvent(d, w, False, NoEventMask, &ev);
	XFlush(d);
	XCloseDisplay(d);
	return 0;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

var errNoDisplay = errors.New("cannot open the X display named by DISPLAY")

// Exists reports whether a window titled title is on the display.
func Exists(title string) (bool, error) {
	cs := C.CString(title)
	defer C.free(unsafe.Pointer(cs))
	switch C.exists(cs) {
	case -1:
		return false, errNoDisplay
	case 1:
		return true, nil
	}
	return false, nil
}

// Close asks the window titled title to close, as a window manager's close button does.
func Close(title string) error {
	cs := C.CString(title)
	defer C.free(unsafe.Pointer(cs))
	switch C.closeWindow(cs) {
	case -1:
		return errNoDisplay
	case 1:
		return ErrNotFound
	}
	return nil
}
