#include "renderer.hpp"

#include <epoxy/gl.h>

#include <algorithm>
#include <string>
#include <utility>

namespace vitrine::compositor {
namespace {

// One triangle covering the viewport; positions from gl_VertexID, so no vertex buffer.
constexpr const char* kVertex = R"(#version 330 core
void main() {
  vec2 p = vec2(float((gl_VertexID & 1) * 4 - 1), float((gl_VertexID & 2) * 2 - 1));
  gl_Position = vec4(p, 0.0, 1.0);
}
)";

// gl_FragCoord has its origin at the bottom-left; windows and the desktop at the top-left.
constexpr const char* kFragment = R"(#version 330 core
uniform sampler2D u_texture;
uniform ivec2 u_origin;        // texel under the window's top-left pixel
uniform int u_height;          // window height in pixels
uniform ivec2 u_texture_size;  // texture size in texels
uniform vec4 u_tint;           // rgb, strength in a
out vec4 color;
void main() {
  ivec2 w = ivec2(gl_FragCoord.xy);
  ivec2 d = ivec2(w.x, u_height - 1 - w.y) + u_origin;
  vec3 rgb = vec3(0.0);
  if (all(greaterThanEqual(d, ivec2(0))) && all(lessThan(d, u_texture_size)))
    rgb = texelFetch(u_texture, d, 0).rgb;
  color = vec4(mix(rgb, u_tint.rgb, u_tint.a), 1.0);
}
)";

Result<GLuint> compile(GLenum type, const char* source) {
  GLuint s = glCreateShader(type);
  glShaderSource(s, 1, &source, nullptr);
  glCompileShader(s);
  GLint ok = 0;
  glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char log[1024] = {};
    glGetShaderInfoLog(s, sizeof log, nullptr, log);
    glDeleteShader(s);
    return fail(Errc::kGl, std::string("shader compile failed: ") + log);
  }
  return s;
}

}  // namespace

Result<Renderer> Renderer::create() {
  auto vs = compile(GL_VERTEX_SHADER, kVertex);
  if (!vs) return std::unexpected(vs.error());
  auto fs = compile(GL_FRAGMENT_SHADER, kFragment);
  if (!fs) {
    glDeleteShader(*vs);
    return std::unexpected(fs.error());
  }
  Renderer r;
  r.program_ = glCreateProgram();
  glAttachShader(r.program_, *vs);
  glAttachShader(r.program_, *fs);
  glLinkProgram(r.program_);
  glDeleteShader(*vs);
  glDeleteShader(*fs);
  GLint ok = 0;
  glGetProgramiv(r.program_, GL_LINK_STATUS, &ok);
  if (!ok) {
    char log[1024] = {};
    glGetProgramInfoLog(r.program_, sizeof log, nullptr, log);
    return fail(Errc::kGl, std::string("program link failed: ") + log);
  }
  r.loc_origin_ = glGetUniformLocation(r.program_, "u_origin");
  r.loc_height_ = glGetUniformLocation(r.program_, "u_height");
  r.loc_texture_size_ = glGetUniformLocation(r.program_, "u_texture_size");
  r.loc_tint_ = glGetUniformLocation(r.program_, "u_tint");
  glUseProgram(r.program_);
  glUniform1i(glGetUniformLocation(r.program_, "u_texture"), 0);
  glGenVertexArrays(1, &r.vao_);  // core profile draws need a bound VAO, even an empty one
  return r;
}

Renderer::Renderer(Renderer&& o) noexcept
    : program_(std::exchange(o.program_, 0)),
      vao_(std::exchange(o.vao_, 0)),
      loc_origin_(o.loc_origin_),
      loc_height_(o.loc_height_),
      loc_texture_size_(o.loc_texture_size_),
      loc_tint_(o.loc_tint_) {}

Renderer::~Renderer() {
  if (vao_ != 0) glDeleteVertexArrays(1, &vao_);
  if (program_ != 0) glDeleteProgram(program_);
}

void Renderer::draw(const Window& window, const WindowTexture& from, const WindowRegion* tint) {
  // The host window's size (the guard may have shrunk a popup): it shows the top-left part.
  const std::int32_t w = window.host.rect.width;
  const std::int32_t h = window.host.rect.height;
  glViewport(0, 0, w, h);
  glDisable(GL_BLEND);
  glDisable(GL_DEPTH_TEST);
  glUseProgram(program_);
  glBindVertexArray(vao_);
  glActiveTexture(GL_TEXTURE0);
  glBindTexture(GL_TEXTURE_2D, from.texture);
  glUniform2i(loc_origin_, from.origin_x, from.origin_y);
  glUniform1i(loc_height_, h);
  // No texture: a 0x0 size keeps texelFetch off the (incomplete) texture 0.
  glUniform2i(loc_texture_size_, from.texture != 0 ? from.width : 0, from.texture != 0 ? from.height : 0);
  glUniform4f(loc_tint_, 0.0f, 0.0f, 0.0f, 0.0f);

  const WindowRegion whole(WindowRect{0, 0, w, h});
  if (window.visible_region == whole) {
    glDisable(GL_SCISSOR_TEST);
    glDrawArrays(GL_TRIANGLES, 0, 3);
  } else {
    // Outside the visible region: transparent black (the X11 backend shapes it away).
    glDisable(GL_SCISSOR_TEST);
    glClearColor(0.0f, 0.0f, 0.0f, 0.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glEnable(GL_SCISSOR_TEST);
    for (const auto& b : window.visible_region.boxes()) {
      glScissor(b.x1, h - b.y2, b.x2 - b.x1, b.y2 - b.y1);  // GL scissor is bottom-up
      glDrawArrays(GL_TRIANGLES, 0, 3);
    }
  }
  if (tint != nullptr && !tint->empty()) {
    glEnable(GL_SCISSOR_TEST);
    glUniform4f(loc_tint_, 1.0f, 0.0f, 1.0f, 0.35f);  // magenta, like weston's repaint debug
    for (const auto& b : tint->boxes()) {
      glScissor(b.x1, h - b.y2, b.x2 - b.x1, b.y2 - b.y1);
      glDrawArrays(GL_TRIANGLES, 0, 3);
    }
  }
  draw_border(window.host, w, h);
  glDisable(GL_SCISSOR_TEST);
}

void Renderer::draw_border(const HostFrame& host, std::int32_t w, std::int32_t h) {
  // The VM's label, last: nothing the guest paints or shapes reaches over it.
  const std::int32_t b = host.border_px;
  if (b <= 0) return;
  const float r = static_cast<float>((host.border_rgb >> 16) & 0xffu) / 255.0f;
  const float g = static_cast<float>((host.border_rgb >> 8) & 0xffu) / 255.0f;
  const float bl = static_cast<float>(host.border_rgb & 0xffu) / 255.0f;
  glEnable(GL_SCISSOR_TEST);
  glClearColor(r, g, bl, 1.0f);
  // GL scissor boxes are bottom-up: bottom, top, left, right strips.
  const std::int32_t strips[4][4] = {{0, 0, w, b}, {0, h - b, w, b}, {0, 0, b, h}, {w - b, 0, b, h}};
  for (const auto& s : strips) {
    glScissor(std::max(s[0], 0), std::max(s[1], 0), std::min(s[2], w), std::min(s[3], h));
    glClear(GL_COLOR_BUFFER_BIT);
  }
}

}  // namespace vitrine::compositor
