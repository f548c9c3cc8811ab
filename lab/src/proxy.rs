//! A TCP proxy that delays every byte by half a round trip in each direction: a database across an
//! ocean, on loopback. Order is kept and bandwidth is not limited; only time in flight is added. Each
//! direction of a connection has a reader and a writer thread, so that a delay of half a millisecond is
//! kept to the operating system's sleep precision, not a timer wheel's millisecond.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A listening proxy; it runs until the process ends.
pub struct Proxy {
    pub addr: SocketAddr,
}

/// Listens on a free loopback port and forwards each connection to `upstream`, each direction delayed
/// by `rtt / 2`.
pub fn start(upstream: SocketAddr, rtt: Duration) -> std::io::Result<Proxy> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let one_way = rtt / 2;
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(upstream) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let pipes = client
                .try_clone()
                .and_then(|c| Ok((c, server.try_clone()?)));
            if let Ok((client2, server2)) = pipes {
                delayed(client, server2, one_way);
                delayed(server, client2, one_way);
            }
        }
    });
    Ok(Proxy { addr })
}

/// Copies `from` to `to`, each chunk written `delay` after it was read.
fn delayed(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        for (due, bytes) in rx {
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let mut s = s.unwrap();
                std::thread::spawn(move || {
                    let mut b = [0u8; 16];
                    while let Ok(n) = s.read(&mut b) {
                        if n == 0 || s.write_all(&b[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    /// Twenty pings through a proxy of `rtt`, fastest first. Other tests run alongside on two cores, so
    /// a single ping can be late; the fastest shows what the proxy itself adds.
    fn round_trips(rtt: Duration) -> Vec<Duration> {
        let proxy = start(echo(), rtt).unwrap();
        let mut s = TcpStream::connect(proxy.addr).unwrap();
        s.set_nodelay(true).unwrap();
        let mut all: Vec<Duration> = (0..20)
            .map(|_| {
                let t = Instant::now();
                s.write_all(b"ping").unwrap();
                let mut b = [0u8; 4];
                s.read_exact(&mut b).unwrap();
                assert_eq!(&b, b"ping");
                t.elapsed()
            })
            .collect();
        all.sort();
        all
    }

    #[test]
    fn a_reply_comes_back_one_round_trip_later() {
        let all = round_trips(Duration::from_millis(40));
        assert!(all[0] >= Duration::from_millis(40), "{all:?}");
        assert!(all[0] < Duration::from_millis(45), "{all:?}");
    }

    #[test]
    fn a_short_round_trip_is_kept_short() {
        let all = round_trips(Duration::from_millis(1));
        assert!(all[0] >= Duration::from_millis(1), "{all:?}");
        assert!(all[0] < Duration::from_micros(1600), "{all:?}");
    }
}
