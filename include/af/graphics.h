/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's graphics
 * (windows and charts) interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_GRAPHICS_H
#define EMBER_AF_GRAPHICS_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

/* af_window and af_cell are missing from the types list; they are defined as ArrayFire 3.10's
 * graphics.h defines them, so that the declarations below mean what they mean there. */

/** Handle of a window. */
typedef void *af_window;

/** Which cell of a window's grid a draw call targets, and how it is drawn. */
typedef struct {
    int row;           /* grid row, or -1 for the whole window */
    int col;           /* grid column, or -1 for the whole window */
    const char *title; /* title of the cell */
    af_colormap cmap;  /* colour map for images */
} af_cell;

/** Creates a window of width x height pixels with a title. */
AFAPI af_err af_create_window(af_window *out, const int width, const int height,
                              const char *const title);

/** Moves the window to (x, y) on the screen. */
AFAPI af_err af_set_position(const af_window wind, const unsigned x, const unsigned y);

/** Sets the window title. */
AFAPI af_err af_set_title(const af_window wind, const char *const title);

#if AF_API_VERSION >= 31
/** Resizes the window to w x h pixels. */
AFAPI af_err af_set_size(const af_window wind, const unsigned w, const unsigned h);
#endif

/** Draws an array as an image. */
AFAPI af_err af_draw_image(const af_window wind, const af_array in, const af_cell *const props);

/** Draws a 2D line plot of Y against X (deprecated). */
AFAPI af_err af_draw_plot(const af_window wind, const af_array X, const af_array Y,
                          const af_cell *const props);

#if AF_API_VERSION >= 32
/** Draws a 3D line plot of the points P (deprecated). */
AFAPI af_err af_draw_plot3(const af_window wind, const af_array P, const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Draws a 2D or 3D line plot of the points P. */
AFAPI af_err af_draw_plot_nd(const af_window wind, const af_array P, const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Draws a 2D line plot of Y against X. */
AFAPI af_err af_draw_plot_2d(const af_window wind, const af_array X, const af_array Y,
                             const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Draws a 3D line plot of the points (X, Y, Z). */
AFAPI af_err af_draw_plot_3d(const af_window wind, const af_array X, const af_array Y,
                             const af_array Z, const af_cell *const props);
#endif

#if AF_API_VERSION >= 33
/** Draws a 2D scatter plot of Y against X (deprecated). */
AFAPI af_err af_draw_scatter(const af_window wind, const af_array X, const af_array Y,
                             const af_marker_type marker, const af_cell *const props);
#endif

#if AF_API_VERSION >= 33
/** Draws a 3D scatter plot of the points P (deprecated). */
AFAPI af_err af_draw_scatter3(const af_window wind, const af_array P, const af_marker_type marker,
                              const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Draws a 2D or 3D scatter plot of the points P. */
AFAPI af_err af_draw_scatter_nd(const af_window wind, const af_array P, const af_marker_type marker,
                                const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Draws a 2D scatter plot of Y against X. */
AFAPI af_err af_draw_scatter_2d(const af_window wind, const af_array X, const af_array Y,
                                const af_marker_type marker, const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Draws a 3D scatter plot of the points (X, Y, Z). */
AFAPI af_err af_draw_scatter_3d(const af_window wind, const af_array X, const af_array Y,
                                const af_array Z, const af_marker_type marker,
                                const af_cell *const props);
#endif

/** Draws a histogram of the bin counts X over [minval, maxval]. */
AFAPI af_err af_draw_hist(const af_window wind, const af_array X, const double minval,
                          const double maxval, const af_cell *const props);

#if AF_API_VERSION >= 32
/** Draws the surface S over the grid xVals x yVals. */
AFAPI af_err af_draw_surface(const af_window wind, const af_array xVals, const af_array yVals,
                             const af_array S, const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Draws a 2D or 3D vector field. */
AFAPI af_err af_draw_vector_field_nd(const af_window wind, const af_array points,
                                     const af_array directions, const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Draws a 3D vector field. */
AFAPI af_err af_draw_vector_field_3d(const af_window wind, const af_array xPoints,
                                     const af_array yPoints, const af_array zPoints,
                                     const af_array xDirs, const af_array yDirs,
                                     const af_array zDirs, const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Draws a 2D vector field. */
AFAPI af_err af_draw_vector_field_2d(const af_window wind, const af_array xPoints,
                                     const af_array yPoints, const af_array xDirs,
                                     const af_array yDirs, const af_cell *const props);
#endif

/** Splits the window into a rows x cols grid of views. */
AFAPI af_err af_grid(const af_window wind, const int rows, const int cols);

#if AF_API_VERSION >= 34
/** Sets the axes limits of a chart from the ranges of x, y and z. */
AFAPI af_err af_set_axes_limits_compute(const af_window wind, const af_array x, const af_array y,
                                        const af_array z, const bool exact,
                                        const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Sets the axes limits of a 2D chart. */
AFAPI af_err af_set_axes_limits_2d(const af_window wind, const float xmin, const float xmax,
                                   const float ymin, const float ymax, const bool exact,
                                   const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Sets the axes limits of a 3D chart. */
AFAPI af_err af_set_axes_limits_3d(const af_window wind, const float xmin, const float xmax,
                                   const float ymin, const float ymax, const float zmin,
                                   const float zmax, const bool exact, const af_cell *const props);
#endif

#if AF_API_VERSION >= 34
/** Sets the axes titles of a chart. */
AFAPI af_err af_set_axes_titles(const af_window wind, const char *const xtitle,
                                const char *const ytitle, const char *const ztitle,
                                const af_cell *const props);
#endif

#if AF_API_VERSION >= 37
/** Sets the printf-style formats of the axes labels of a chart. */
AFAPI af_err af_set_axes_label_format(const af_window wind, const char *const xformat,
                                      const char *const yformat, const char *const zformat,
                                      const af_cell *const props);
#endif

/** Shows the window's contents and polls for events. */
AFAPI af_err af_show(const af_window wind);

/** Tests whether the window has been closed. */
AFAPI af_err af_is_window_closed(bool *out, const af_window wind);

#if AF_API_VERSION >= 33
/** Hides or shows the window. */
AFAPI af_err af_set_visibility(const af_window wind, const bool is_visible);
#endif

/** Destroys the window. */
AFAPI af_err af_destroy_window(const af_window wind);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_GRAPHICS_H */
