package infile

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// JSONError is JSON that cannot be decoded, in words: Field is the
// dotted field at fault ("" for the value as a whole), Line the line of
// the data it is on (0 where no one line is at fault).
type JSONError struct {
	Line  int
	Field string
	Msg   string
	Err   error // the decoder's own error
}

func (e *JSONError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func (e *JSONError) Unwrap() error { return e.Err }

// In names the file an error is in: "path:line: …" for a JSONError with
// a line, "path: …" otherwise.
func In(path string, err error) error {
	var je *JSONError
	if errors.As(err, &je) && je.Line > 0 {
		return fmt.Errorf("%s:%d: %w", path, je.Line, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// DecodeJSON decodes the one JSON value data holds into v; strict
// refuses keys v has no field for. Its errors are JSONErrors, which say
// what kind of value a field wants rather than name a Go type.
func DecodeJSON(data []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return &JSONError{Line: lineOf(data, dec.InputOffset()), Msg: "more than one JSON value"}
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return &JSONError{Msg: "no JSON value", Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &JSONError{Msg: "truncated: the JSON value does not end", Err: err}
	case errors.As(err, &syn):
		return &JSONError{Line: lineOf(data, syn.Offset), Msg: "not valid JSON: " + syn.Error(), Err: err}
	case errors.As(err, &typ):
		return &JSONError{Line: lineOf(data, typ.Offset), Field: typ.Field,
			Msg: fmt.Sprintf("%s where %s belongs", typ.Value, Want(typ.Type)), Err: err}
	}
	// Unknown fields and the values' own checks (an unknown colour name):
	// the decoder gives no offset for them, so no line is named.
	return &JSONError{Msg: strings.TrimPrefix(err.Error(), "json: "), Err: err}
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// Want names in words the kind of value a Go type holds.
func Want(t reflect.Type) string {
	if t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "a string" // names such as a colour or a task
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Int8, reflect.Int16, reflect.Int32:
		hi := int64(1)<<(t.Bits()-1) - 1
		return fmt.Sprintf("a whole number from %d to %d", -hi-1, hi)
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return "a whole number, 0 or more"
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return fmt.Sprintf("a whole number from 0 to %d", uint64(1)<<t.Bits()-1)
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return Want(t.Elem())
	}
	return "a value of another kind"
}

func lineOf(data []byte, offset int64) int {
	return 1 + bytes.Count(data[:max(0, min(int(offset), len(data)))], []byte("\n"))
}
