package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// Validate checks v, a document decoded with UseNumber, and returns every
// rule it fails as a FieldError in Kazoo's words, its path under prefix
// ("flow.data"); nil when v passes. A failure is never reported empty.
func (s *Schema) Validate(v any, prefix string) ValidationError {
	err := s.compiled.Validate(v)
	if err == nil {
		return nil
	}
	ve, ok := errors.AsType[*jsonschema.ValidationError](err)
	if !ok {
		return ValidationError{{Path: JoinPath(prefix), Rule: "error", Message: err.Error()}}
	}
	var errs ValidationError
	errs = leafErrors(errs, ve, v, prefix)
	if len(errs) == 0 { // a failure with no leaf we understand
		errs = append(errs, FieldError{Path: JoinPath(prefix, ve.InstanceLocation...), Rule: "error", Message: "failed to validate"})
	}
	return errs
}

// leafErrors appends the failures at the leaves of e's cause tree: the
// library nests them under the keyword that combined them.
func leafErrors(errs ValidationError, e *jsonschema.ValidationError, root any, prefix string) ValidationError {
	if len(e.Causes) > 0 {
		for _, cause := range e.Causes {
			errs = leafErrors(errs, cause, root, prefix)
		}
		return errs
	}
	loc := e.InstanceLocation
	path := JoinPath(prefix, loc...)
	val := valueAt(root, loc)
	add := func(f FieldError) { errs = append(errs, f) }
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			add(FieldError{Path: JoinPath(path, m), Rule: "required", Message: "Field is required but missing"})
		}
	case *kind.Type:
		var target any = k.Want
		if len(k.Want) == 1 {
			target = k.Want[0]
		}
		add(FieldError{Path: path, Rule: "type", Message: "Value did not match type: " + strings.Join(k.Want, ", "), Target: target, Value: val})
	case *kind.Enum:
		add(FieldError{Path: path, Rule: "enum", Message: "Value not found in enumerated list of values", Target: k.Want, Value: val})
	case *kind.Const:
		add(FieldError{Path: path, Rule: "const", Message: "Value does not match the constant", Target: k.Want, Value: val})
	case *kind.Pattern:
		add(FieldError{Path: path, Rule: "pattern", Message: "Failed to match pattern '" + k.Want + "'", Target: k.Want, Value: val})
	case *kind.MinLength:
		add(FieldError{Path: path, Rule: "minLength", Message: fmt.Sprintf("String must be at least %d characters", k.Want), Target: k.Want, Value: val})
	case *kind.MaxLength:
		add(FieldError{Path: path, Rule: "maxLength", Message: fmt.Sprintf("String must not be more than %d characters", k.Want), Target: k.Want, Value: val})
	case *kind.Minimum:
		n := ratNumber(k.Want.RatString())
		add(FieldError{Path: path, Rule: "minimum", Message: "Value must be at least " + n.String(), Target: n, Value: val})
	case *kind.Maximum:
		n := ratNumber(k.Want.RatString())
		add(FieldError{Path: path, Rule: "maximum", Message: "Value must be at most " + n.String(), Target: n, Value: val})
	case *kind.ExclusiveMinimum:
		n := ratNumber(k.Want.RatString())
		add(FieldError{Path: path, Rule: "exclusiveMinimum", Message: "Value must be more than " + n.String(), Target: n, Value: val})
	case *kind.ExclusiveMaximum:
		n := ratNumber(k.Want.RatString())
		add(FieldError{Path: path, Rule: "exclusiveMaximum", Message: "Value must be less than " + n.String(), Target: n, Value: val})
	case *kind.MultipleOf:
		n := ratNumber(k.Want.RatString())
		add(FieldError{Path: path, Rule: "multipleOf", Message: "Value not divisible by " + n.String(), Target: n, Value: val})
	case *kind.MinItems:
		add(FieldError{Path: path, Rule: "minItems", Message: fmt.Sprintf("The list must have at least %d items", k.Want), Target: k.Want})
	case *kind.MaxItems:
		add(FieldError{Path: path, Rule: "maxItems", Message: fmt.Sprintf("The list is more than %d items", k.Want), Target: k.Want})
	case *kind.UniqueItems:
		add(FieldError{Path: path, Rule: "uniqueItems", Message: "List of items is not unique", Value: valueAt(val, []string{strconv.Itoa(k.Duplicates[1])})})
	case *kind.MinProperties:
		add(FieldError{Path: path, Rule: "minProperties", Message: fmt.Sprintf("The object must have at least %d keys", k.Want), Target: k.Want})
	case *kind.MaxProperties:
		add(FieldError{Path: path, Rule: "maxProperties", Message: fmt.Sprintf("The object must have at most %d keys", k.Want), Target: k.Want})
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			add(FieldError{Path: JoinPath(path, p), Rule: "additionalProperties", Message: "Strict checking of data is enabled; only include schema-defined properties"})
		}
	case *kind.Format:
		add(FieldError{Path: path, Rule: "format", Message: "Field is not in the correct format", Target: k.Want, Value: val})
	case *kind.FalseSchema:
		add(FieldError{Path: path, Rule: "not", Message: "Field is not allowed", Value: val})
	default:
		rule := "error"
		if kp := e.ErrorKind.KeywordPath(); len(kp) > 0 {
			rule = kp[0]
		}
		add(FieldError{Path: path, Rule: rule, Message: e.Error(), Value: val})
	}
	return errs
}

// ratNumber turns a big.Rat's RatString ("5000", "1/2") into a JSON number.
func ratNumber(s string) json.Number {
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseFloat(num, 64)
		d, err2 := strconv.ParseFloat(den, 64)
		if err1 == nil && err2 == nil && d != 0 {
			return json.Number(strconv.FormatFloat(n/d, 'g', -1, 64))
		}
	}
	return json.Number(s)
}

// valueAt finds the value at an instance location (object keys and array
// indexes), or nil.
func valueAt(v any, loc []string) any {
	for _, t := range loc {
		switch x := v.(type) {
		case map[string]any:
			v = x[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}
