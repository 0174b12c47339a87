#include "catalog_receiver.hpp"

#include <string>

#include "control_link.hpp"
#include "vitrine/base/log.hpp"

namespace vitrine::rdpmux {

CatalogReceiver::CatalogReceiver(ControlLink& link, const HostMuxOptions& options, HostMuxCounters& counters)
    : link_(link), options_(options), counters_(counters) {}

void CatalogReceiver::on_fragment(const CatalogFragmentMsg& fragment) {
  const CatalogFragmentHeader& h = fragment.header;  // validated by decode_control
  Stream& st = stream_;
  if (h.offset == 0) {
    if (st.active) {
      counters_.catalogs_abandoned.fetch_add(1, std::memory_order_relaxed);
      if (auto a = link_.admit_guest_line())
        base::log_info("rdpmux: catalogue generation {} abandoned at {} of {} bytes for generation {}{}",
                       st.generation, st.received, st.total, h.generation, a.suffix());
    }
    st = Stream{true, h.generation, h.total_size, 0};
  } else if (!st.active || h.generation != st.generation || h.total_size != st.total || h.offset != st.received) {
    const std::string expected = st.active ? "generation " + std::to_string(st.generation) + " at offset " +
                                                 std::to_string(st.received) + " of " + std::to_string(st.total)
                                           : "a fragment at offset 0";
    st.active = false;
    link_.protocol_error(kMsgCatalogFragment, kErrMalformed,
                         "CatalogFragment generation " + std::to_string(h.generation) + " offset " +
                             std::to_string(h.offset) + " total " + std::to_string(h.total_size) +
                             " out of order (expected " + expected + "); the incomplete catalogue is dropped");
    return;
  }
  // offset + length <= total_size (validate), offset == received: no overflow, no overrun.
  st.received += h.length;
  counters_.catalog_fragments.fetch_add(1, std::memory_order_relaxed);
  if (st.received == st.total) {
    st.active = false;
    counters_.catalogs_complete.fetch_add(1, std::memory_order_relaxed);
  }
  options_.on_catalog_fragment(fragment.record);
}

}  // namespace vitrine::rdpmux
