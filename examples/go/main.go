// A tiny program for the multi-stage example: the house, without the crane.
package main

import (
	"fmt"
	"runtime"
)

func main() {
	fmt.Printf("hello from a %s/%s binary built in a multi-stage build\n", runtime.GOOS, runtime.GOARCH)
}
