package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
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
