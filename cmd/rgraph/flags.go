package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/render"
)

// enumValue is a string flag restricted to a fixed set of values; a bad
// value is rejected while flags are parsed, which makes it a usage error.
type enumValue struct {
	value   *string
	allowed []string
}

func (e *enumValue) String() string { return *e.value }
func (e *enumValue) Type() string   { return "string" }
func (e *enumValue) Set(s string) error {
	if !slices.Contains(e.allowed, s) {
		return fmt.Errorf("valid values are %s", strings.Join(e.allowed, ", "))
	}
	*e.value = s
	return nil
}

// addEnumFlag defines a flag that accepts only allowed values and completes
// them in the shell. The first allowed value is the default.
func addEnumFlag(cmd *cobra.Command, p *string, name, short, usage string, allowed ...string) {
	*p = allowed[0]
	cmd.Flags().VarP(&enumValue{p, allowed}, name, short,
		fmt.Sprintf("%s: %s", usage, strings.Join(allowed, "|")))
	_ = cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return allowed, cobra.ShellCompDirectiveNoFileComp
	})
}

// addOutputFlag defines -o/--output with the formats a verb supports.
func addOutputFlag(cmd *cobra.Command, p *string, formats ...string) {
	addEnumFlag(cmd, p, "output", "o", "output format", formats...)
}

// fieldsValue is a --fields list: field names of a wide table's columns,
// comma-separated or repeated. An unknown name is rejected while flags
// are parsed, which makes it a usage error.
type fieldsValue struct {
	value  *[]string
	header []string
}

func (f *fieldsValue) String() string { return strings.Join(*f.value, ",") }
func (f *fieldsValue) Type() string   { return "fields" }
func (f *fieldsValue) Set(s string) error {
	names := append(slices.Clone(*f.value), strings.Split(s, ",")...)
	for i, n := range names {
		names[i] = strings.ToLower(strings.TrimSpace(n))
	}
	if _, err := render.SelectFields(f.header, names); err != nil {
		return err
	}
	*f.value = names
	return nil
}

// addFieldsFlag defines --fields, which chooses and orders the columns of
// a verb's wide table on a terminal (render.Terminal.Fields), and
// completes the field names of header in the shell, one comma-separated
// name after another.
func addFieldsFlag(cmd *cobra.Command, p *[]string, header []string) {
	names := render.FieldNames(header)
	cmd.Flags().Var(&fieldsValue{p, header}, "fields",
		"columns of the table on a terminal, in order (comma-separated): "+strings.Join(names, ","))
	_ = cmd.RegisterFlagCompletionFunc("fields", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		i := strings.LastIndex(toComplete, ",")
		prefix, given := toComplete[:i+1], strings.Split(toComplete[:max(i, 0)], ",")
		var out []string
		for _, n := range names {
			if !slices.Contains(given, n) {
				out = append(out, prefix+n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
}
