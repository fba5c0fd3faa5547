package tui

import (
	"bytes"
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
)

// sent runs the command a switch of protocol returns (the delayed resend)
// and the encode it starts, and returns the bytes that would be written.
func sent(t *testing.T, a *app, cmd tea.Cmd) []byte {
	t.Helper()
	if cmd == nil {
		t.Fatal("no resend scheduled")
	}
	_, enc := a.Update(cmd())
	if enc == nil {
		t.Fatal("the resend started no encode")
	}
	msg, ok := enc().(imageMsg)
	if !ok || msg.gen != a.imageGen {
		t.Fatalf("encode gave %#v, want the current generation's image", msg)
	}
	return msg.data
}

// TestTerminalAnswersPickPreview plays the terminal's answers to the
// start-up queries: DA1 with 4 gives sixel, a kitty answer gives kitty and
// keeps it, and a preview the user named is never switched.
func TestTerminalAnswersPickPreview(t *testing.T) {
	a := testApp(t, 120, 40)
	a.o.Preview = "auto"

	if _, cmd := a.Update(uv.PrimaryDeviceAttributesEvent{1, 2}); cmd != nil || a.preview.Name() != "blocks" {
		t.Fatalf("DA1 1;2: preview %s, cmd %v; want blocks and nothing sent", a.preview.Name(), cmd != nil)
	}
	_, cmd := a.Update(uv.PrimaryDeviceAttributesEvent{63, 1, 2, 4})
	if a.preview.Name() != "sixel" {
		t.Fatalf("DA1 with 4: preview %s, want sixel", a.preview.Name())
	}
	l := a.layout()
	data := sent(t, a, cmd)
	head := fmt.Appendf(nil, "\x1b[?2026h\x1b7\x1b[%d;%dH\x1bP", l.imgTop+1, l.imgLeft+1)
	if !bytes.HasPrefix(data, head) || !bytes.HasSuffix(data, []byte("\x1b\\\x1b8\x1b[?2026l")) {
		t.Errorf("sixel bytes %q…%q, want them wrapped and placed at the rectangle", data[:20], data[len(data)-12:])
	}

	_, cmd = a.Update(uv.KittyGraphicsEvent{})
	if a.preview.Name() != "kitty" {
		t.Fatalf("kitty answer: preview %s, want kitty", a.preview.Name())
	}
	if data := sent(t, a, cmd); !bytes.Contains(data, []byte("H\x1b_Ga=d,d=I,i=1,q=2\x1b\\\x1b_Ga=T,f=100")) {
		t.Errorf("kitty bytes %q…, want the old picture deleted and the new one sent", data[:min(60, len(data))])
	}
	if _, cmd := a.Update(uv.PrimaryDeviceAttributesEvent{63, 1, 2, 4}); cmd != nil || a.preview.Name() != "kitty" {
		t.Errorf("DA1 after kitty: preview %s, want kitty kept", a.preview.Name())
	}

	named := testApp(t, 120, 40) // Preview: "blocks"
	named.Update(uv.KittyGraphicsEvent{})
	named.Update(uv.PrimaryDeviceAttributesEvent{4})
	if named.preview.Name() != "blocks" {
		t.Errorf("--preview blocks switched to %s", named.preview.Name())
	}
}
