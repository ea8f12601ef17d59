// Package sitetest checks recovery documentation sites as a reader meets
// them: [Links] follows every link of a set of pages statically, and
// [Browser] loads a site written to disk in a real headless Chromium from
// file://, offline, and checks that every page loads, every link resolves
// to a page that loaded (and every fragment to an element of it), and
// that drawings are painted ([Browser.Screenshot], [CountColor]).
//
// [RequireBrowser] skips a test when no Chromium is installed (Debian:
// apt-get install chromium), and fails it instead under
// RGRAPH_REQUIRE_PRIVILEGED=1, which CI sets because it installs one.
package sitetest
