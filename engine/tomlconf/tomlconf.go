// Package tomlconf loads TOML config files strictly: a syntax error names
// the line and column, an unknown or wrongly cased key its line, and a bad
// value its key and the line that sets it.
package tomlconf

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"parascope/engine/infile"
)

// KeyError is a setting that cannot work, named by its dotted key.
type KeyError struct {
	Key, Msg string
}

func (e KeyError) Error() string { return e.Key + ": " + e.Msg }

// Validator checks a decoded config; its errors are KeyErrors, joined.
type Validator interface {
	Validate() error
}

// Load decodes the file over v (which holds the defaults) and validates
// it. v must point to a struct whose fields carry toml tags.
func Load(path string, v Validator) error {
	_, err := LoadKeys(path, v)
	return err
}

// LoadKeys is Load that also returns the dotted keys the file sets: what
// a setting the defaults could also hold was given for.
func LoadKeys(path string, v Validator) ([]string, error) {
	var keys []string
	err := loadFile(path, v, func(k toml.Key) { keys = append(keys, k.String()) })
	return keys, err
}

func loadFile(path string, v Validator, set func(toml.Key)) error {
	data, err := Read(path)
	if err != nil {
		return err
	}
	meta, err := toml.Decode(string(data), v)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return fmt.Errorf("%s:%d:%d: %s", path, perr.Position.Line, perr.Position.Col, perr.Message)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	// The decoder matches keys regardless of case; only the exact names
	// are accepted, so a config reads the same everywhere.
	known := knownKeys(reflect.TypeOf(v).Elem(), "")
	var errs []error
	for _, k := range meta.Keys() {
		set(k)
		if !known[k.String()] {
			errs = append(errs, fmt.Errorf("%s:%d: unknown key %q", path, keyLine(data, k), k.String()))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// NaN and ±Inf slip through every range check written as x < lo, and
	// the decoder wraps a negative number into an unsigned field (seed =
	// -1 becomes 2⁶⁴ − 1), so both are refused here, once for every
	// config kind.
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	bad := negativeUnsigned(reflect.TypeOf(v).Elem(), raw, "")
	if bad = append(bad, nonFinite(reflect.ValueOf(v).Elem(), "")...); len(bad) > 0 {
		for _, ke := range bad {
			errs = append(errs, ke)
		}
		return Locate(path, data, errors.Join(errs...))
	}
	return Locate(path, data, v.Validate())
}

// Inputs is a config whose keys name input files, as key → path, leaving
// out values that name no file.
type Inputs interface {
	InputFiles() map[string]string
}

// CheckInputs reports each input file of the config loaded from path
// that does not exist, with the line of the key that names it, where
// opening it later could not say which key. A run checks them before it
// starts; loading alone does not, so that an example may name a run's
// output still to be made.
func CheckInputs(path string, v Inputs) error {
	return LocateIn(path, checkInputs(v.InputFiles()))
}

// LocateIn is Locate for an error found after the config at path was
// loaded, such as a key's file that cannot start a run.
func LocateIn(path string, err error) error {
	if err == nil {
		return nil
	}
	data, rerr := Read(path)
	if rerr != nil {
		return rerr
	}
	return Locate(path, data, err)
}

// checkInputs reports each path that does not exist, or cannot be
// looked at, as a KeyError of the key that names it.
func checkInputs(files map[string]string) error {
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(files)) {
		if _, err := os.Stat(files[key]); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is said once, below
			}
			errs = append(errs, KeyError{key, fmt.Sprintf("%s: %v", files[key], err)})
		}
	}
	return errors.Join(errs...)
}

// MaxBytes caps a config file: the largest example is a few kilobytes,
// and a device such as /dev/zero would otherwise fill the memory.
const MaxBytes = 1 << 20

// Read reads a config file: a regular file of at most MaxBytes, without
// a UTF-8 byte order mark.
func Read(path string) ([]byte, error) {
	return infile.Read(path, MaxBytes, "a config")
}

// String reads one top-level string key of a file ("" when the file does
// not set it) without checking the rest: a key that says where the
// others start from. Syntax errors are left to Load.
func String(path, key string) (string, error) {
	data, err := Read(path)
	if err != nil {
		return "", err
	}
	var top map[string]any
	if _, err := toml.Decode(string(data), &top); err != nil {
		return "", nil
	}
	switch v := top[key].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("%s:%d: %s: want a string", path, keyLine(data, toml.Key{key}), key)
}

// Locate prefixes each KeyError with the file and the line that sets its
// key, where the file sets it.
func Locate(path string, data []byte, err error) error {
	if err == nil {
		return nil
	}
	var located []error
	for _, e := range flatten(err) {
		var ke KeyError
		if errors.As(e, &ke) {
			if line := keyLine(data, strings.Split(ke.Key, ".")); line > 0 {
				located = append(located, fmt.Errorf("%s:%d: %w", path, line, e))
				continue
			}
		}
		located = append(located, fmt.Errorf("%s: %w", path, e))
	}
	return errors.Join(located...)
}

// nonFinite reports every NaN or infinite float in the fields of struct
// v that carry toml tags, named by their dotted keys as knownKeys names
// them; a slice's elements are reported under the slice's key.
func nonFinite(v reflect.Value, prefix string) []KeyError {
	var bad []KeyError
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		if f.Anonymous && tag == "" {
			bad = append(bad, nonFinite(v.Field(i), prefix)...) // promoted fields
			continue
		}
		if tag == "" || tag == "-" {
			continue
		}
		bad = append(bad, nonFiniteValue(v.Field(i), prefix+tag)...)
	}
	return bad
}

// negativeUnsigned reports every negative number the file gives a
// field of struct type t that holds only whole numbers from 0 up; raw is
// the file decoded without a type.
func negativeUnsigned(t reflect.Type, raw map[string]any, prefix string) []KeyError {
	var bad []KeyError
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		if f.Anonymous && tag == "" {
			bad = append(bad, negativeUnsigned(f.Type, raw, prefix)...) // promoted fields
			continue
		}
		if tag == "" || tag == "-" {
			continue
		}
		switch k := f.Type.Kind(); {
		case k == reflect.Struct:
			if table, ok := raw[tag].(map[string]any); ok {
				bad = append(bad, negativeUnsigned(f.Type, table, prefix+tag+".")...)
			}
		case k >= reflect.Uint && k <= reflect.Uint64:
			if n, ok := raw[tag].(int64); ok && n < 0 {
				bad = append(bad, KeyError{prefix + tag, fmt.Sprintf("%d, want 0 or more", n)})
			}
		}
	}
	return bad
}

func nonFiniteValue(v reflect.Value, key string) []KeyError {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if x := v.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
			return []KeyError{{key, fmt.Sprintf("%g, want a finite number", x)}}
		}
	case reflect.Struct:
		return nonFinite(v, key+".")
	case reflect.Slice, reflect.Array:
		var bad []KeyError
		for i := range v.Len() {
			for _, ke := range nonFiniteValue(v.Index(i), key) {
				bad = append(bad, KeyError{ke.Key, fmt.Sprintf("element %d: %s", i+1, ke.Msg)})
			}
		}
		return bad
	}
	return nil
}

// Prefix puts prefix before the key of each KeyError in err: the errors
// of a config nested in another's table, as "sampler.".
func Prefix(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range flatten(err) {
		if ke, ok := e.(KeyError); ok {
			e = KeyError{prefix + ke.Key, ke.Msg}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// flatten lists the errors joined in err, and in the joins it holds.
func flatten(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// knownKeys lists the dotted TOML keys of a struct type.
func knownKeys(t reflect.Type, prefix string) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		if f.Anonymous && tag == "" {
			maps.Copy(out, knownKeys(f.Type, prefix)) // promoted fields
			continue
		}
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + tag
		out[name] = true
		if f.Type.Kind() == reflect.Struct {
			maps.Copy(out, knownKeys(f.Type, name+"."))
		}
	}
	return out
}

// keyLine finds the line that sets a key: its last part at the start of a
// line, inside the table its other parts name; 0 when not found.
func keyLine(data []byte, k []string) int {
	table := strings.Join(k[:len(k)-1], ".")
	current := ""
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			current = strings.Trim(line, "[] \t")
			if current == strings.Join(k, ".") {
				return i + 1 // an unknown table
			}
			continue
		}
		name, _, ok := strings.Cut(line, "=")
		if ok && current == table && strings.Trim(strings.TrimSpace(name), `"`) == k[len(k)-1] {
			return i + 1
		}
	}
	return 0
}
