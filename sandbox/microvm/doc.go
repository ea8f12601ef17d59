// Package microvm is rgraph's microVM sandbox driver.
package microvm
