// Package tui will hold the interactive viewer that the bare parascope
// command opens. Until it exists the command prints its help.
package tui
