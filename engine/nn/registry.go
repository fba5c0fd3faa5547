package nn

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Backends other than the CPU register themselves here when they are
// compiled in (package gpu, with the cuda build tag); opening one may still
// fail when the machine lacks the device.

var registry = struct {
	sync.Mutex
	open map[string]func() (Backend, error)
}{open: map[string]func() (Backend, error){"cpu": func() (Backend, error) { return CPU{}, nil }}}

// ErrNotBuilt is what a backend that is registered but not compiled in
// says when opened (cuda in a build without its tag).
var ErrNotBuilt = errors.New("not compiled into this build")

// Register makes a backend available by name.
func Register(name string, open func() (Backend, error)) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.open[name]; dup {
		panic("nn: backend " + name + " registered twice")
	}
	registry.open[name] = open
}

// Names lists the registered backends, cpu first.
func Names() []string {
	registry.Lock()
	defer registry.Unlock()
	var names []string
	for n := range registry.open {
		if n != "cpu" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return append([]string{"cpu"}, names...)
}

// Open returns the named backend.
func Open(name string) (Backend, error) {
	registry.Lock()
	open, ok := registry.open[name]
	registry.Unlock()
	if !ok {
		return nil, fmt.Errorf("no backend %q in this build (have %v)", name, Names())
	}
	return open()
}
