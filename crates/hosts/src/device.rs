//! The host's network card: two queues of Ethernet frames in memory.
//!
//! smoltcp pulls received frames from [`FrameQueue`] and pushes the frames it
//! sends into it; the [`VirtualHost`](crate::VirtualHost) fills the receive
//! queue from `receive` and empties the transmit queue in `take_transmitted`.
//! Nothing here reads a clock or does I/O.

use std::collections::VecDeque;

use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// The Ethernet II header: destination, source, EtherType.
pub(crate) const ETHERNET_HEADER_LEN: usize = 14;

/// An in-memory Ethernet device.
#[derive(Debug)]
pub(crate) struct FrameQueue {
    /// Frames from the network, not yet processed by the stack.
    pub(crate) rx: VecDeque<Vec<u8>>,
    /// Frames the stack sent, not yet taken by the caller.
    pub(crate) tx: Vec<Vec<u8>>,
    /// The IP MTU: the largest IP packet, without the Ethernet header.
    ip_mtu: usize,
}

impl FrameQueue {
    pub(crate) fn new(ip_mtu: usize) -> FrameQueue {
        FrameQueue { rx: VecDeque::new(), tx: Vec::new(), ip_mtu }
    }
}

impl Device for FrameQueue {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken, TxToken<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((RxToken(frame), TxToken(&mut self.tx)))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        Some(TxToken(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        // Checksums stay at their default (computed and verified in software),
        // so captured frames carry correct checksums.
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.ip_mtu + ETHERNET_HEADER_LEN;
        caps.max_burst_size = None;
        caps
    }
}

/// One received frame, handed to smoltcp.
pub(crate) struct RxToken(Vec<u8>);

impl phy::RxToken for RxToken {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(&self.0)
    }
}

/// Room for one frame to send, appended to the transmit queue.
pub(crate) struct TxToken<'a>(&'a mut Vec<Vec<u8>>);

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let mut frame = vec![0; len];
        let r = f(&mut frame);
        self.0.push(frame);
        r
    }
}
