package server

import (
	"bytes"
	"strconv"
)

type bytesBuffer = bytes.Buffer

func strconvFormat(n int64) string { return strconv.FormatInt(n, 10) }
