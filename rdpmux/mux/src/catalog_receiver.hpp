// CatalogReceiver: the application catalogue as it arrives on the control channel
// (kFeatureCatalog, control_layout.hpp "Application catalogue"). decode_control() has checked
// each CatalogFragment on its own (magic, sizes); this checks that it continues the catalogue
// being received (same generation and total, offset == bytes so far; offset 0 starts a new one)
// and hands it to HostMuxOptions::on_catalog_fragment. A fragment out of order drops the
// incomplete catalogue and is a protocol error.
//
// Threads: with the HostMux control lock held.
#pragma once

#include <cstdint>

#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"

namespace vitrine::rdpmux {

class ControlLink;

class CatalogReceiver {
 public:
  // `options` supplies on_catalog_fragment (set: the caller negotiated kFeatureCatalog only then).
  CatalogReceiver(ControlLink& link, const HostMuxOptions& options, HostMuxCounters& counters);
  CatalogReceiver(const CatalogReceiver&) = delete;
  CatalogReceiver& operator=(const CatalogReceiver&) = delete;

  // A new HelloReply (the relay restarted): the next catalogue starts afresh.
  void restart() { stream_ = {}; }
  // A fragment the caller found negotiated.
  void on_fragment(const CatalogFragmentMsg& fragment);

 private:
  // The catalogue being received: the next fragment must continue it.
  struct Stream {
    bool active = false;
    std::uint32_t generation = 0;
    std::uint32_t total = 0;
    std::uint32_t received = 0;
  };

  ControlLink& link_;
  const HostMuxOptions& options_;
  HostMuxCounters& counters_;
  Stream stream_;
};

}  // namespace vitrine::rdpmux
