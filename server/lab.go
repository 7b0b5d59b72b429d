package server

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/web"
)

// labURLs are the addresses students clone or download the lab from.
func (s *Server) labURLs(c echo.Context) (repo, tarball string) {
	base := s.publicBase(c)
	if s.lab.CustomRepo != "" {
		return s.lab.CustomRepo, ""
	}
	return base + content.LabRepoPath, base + content.LabTarballPath
}

// labPage tells how to get the lab.
func (s *Server) labPage(c echo.Context) error {
	repo, tarball := s.labURLs(c)
	return s.render(c, "lab", web.LabPage{Page: s.page(c, "The lab repository"), RepoURL: repo, TarballURL: tarball, Custom: s.lab.CustomRepo != ""})
}

// labTarball serves the lab as a .tar.gz.
func (s *Server) labTarball(c echo.Context) error {
	if len(s.lab.Tarball) == 0 {
		return Errorf(http.StatusNotFound, "This server does not host the lab; see /lab for where to get it.")
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="workshop-lab.tar.gz"`)
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/gzip", s.lab.Tarball)
}

// labGit serves the bare repository's files for git's dumb HTTP protocol
// (info/refs, HEAD, objects/...): git clone needs nothing more.
func (s *Server) labGit(c echo.Context) error {
	if s.lab.RepoDir == "" {
		return Errorf(http.StatusNotFound, "This server does not host the lab; see /lab for where to get it.")
	}
	rel := path.Clean("/" + c.Param("*"))
	if strings.Contains(rel, "..") {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	file := filepath.Join(s.lab.RepoDir, filepath.FromSlash(rel))
	fi, err := os.Stat(file)
	if err != nil || fi.IsDir() {
		return Errorf(http.StatusNotFound, "No such file in the lab repository.")
	}
	h := c.Response().Header()
	if strings.HasPrefix(rel, "/objects/pack/") || (strings.HasPrefix(rel, "/objects/") && !strings.HasPrefix(rel, "/objects/info/")) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	return c.File(file)
}
