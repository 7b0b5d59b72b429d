// Command hello is a tiny program BuildBinaries cross-compiles in tests.
package main

import "fmt"

func main() { fmt.Println("hello") }
