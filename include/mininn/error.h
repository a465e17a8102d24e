// The one exception type of mininn.
//
// Every failure the library reports — a bad model, a bad file, a shape that
// does not fit, a call out of order — is a mininn::Error that says where it
// happened: the JSON path ("nodes[1].attrs.padding", prefixed by the file for
// a loaded model), the node and its op. what() is one line that reads well
// after "error: ":
//
//   try {
//     auto model = mininn::Model::load("net.json");
//   } catch (const mininn::Error& e) {
//     std::cerr << "error: " << e.what() << "\n";       // the whole story
//     std::cerr << e.where().node << "\n";                // "pool"
//   }
//
// The library never aborts the host program and never throws anything else
// across its API (an unexpected failure inside becomes "internal error: ...").
#pragma once

#include <mininn/config.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace mininn {

class MININN_API Error : public std::runtime_error {
 public:
  struct Where {
    std::string path;  // JSON path ("nodes[1].attrs.padding") or a file name
    std::string node;  // node name, if a node is involved
    std::string op;    // that node's op ("MaxPool2d")

    Where(std::string path = {}, std::string node = {}, std::string op = {})
        : path(std::move(path)), node(std::move(node)), op(std::move(op)) {}
  };

  explicit Error(std::string message, Where where = {});

  const std::string& message() const { return message_; }  // what() without the location
  const Where& where() const { return where_; }

  // A copy with context added: a shape rule throws a bare message, the graph
  // loader adds the node and the path. A path already set stays, prefixed by
  // the outer path unless it lies within it.
  Error in(const Where& outer) const;

 private:
  std::string message_;
  Where where_;
};

}  // namespace mininn
