//! A gRPC client of the lab's own, for the routes wrk cannot drive (wrk speaks HTTP/1.1, gRPC needs
//! HTTP/2): unary calls over one connection, one call at a time, each to its end, as wrk's one
//! connection does; the same statistics as wrk's come out.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::wrk::Latency;
use crate::Error;

/// One unary call: the server, the method's path (`/package.Service/Method`) and the request message
/// (protobuf-encoded).
pub struct Call<'a> {
    pub addr: SocketAddr,
    pub path: &'a str,
    pub message: &'a [u8],
}

/// Makes the call `times` times, one after another, each on a new connection; returns the slowest.
/// Fails unless each answers `grpc-status: 0`.
pub fn warm_up(call: &Call, times: u32) -> Result<Duration, Error> {
    runtime()?.block_on(async {
        let mut slowest = Duration::ZERO;
        for _ in 0..times {
            let start = Instant::now();
            Client::connect(call.addr).await?.call(call).await?;
            slowest = slowest.max(start.elapsed());
        }
        Ok(slowest)
    })
}

/// Makes the call one after another on one connection for `seconds`, and reads the distribution of
/// the calls' latencies.
pub fn run(call: &Call, seconds: u32) -> Result<Latency, Error> {
    let took = runtime()?.block_on(async {
        let mut client = Client::connect(call.addr).await?;
        let end = Instant::now() + Duration::from_secs(seconds.into());
        let mut took = vec![];
        while Instant::now() < end {
            let start = Instant::now();
            client.call(call).await?;
            took.push(start.elapsed());
        }
        Ok::<_, Error>(took)
    })?;
    distribution(took).ok_or_else(|| "no call finished".into())
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The count, median and 90th percentile (nearest rank) of the latencies.
fn distribution(mut took: Vec<Duration>) -> Option<Latency> {
    took.sort();
    let at = |p: f64| {
        let rank = ((p * took.len() as f64).ceil() as usize).max(1);
        took[rank - 1].as_secs_f64() * 1000.0
    };
    (!took.is_empty()).then(|| Latency {
        requests: took.len() as u64,
        median_ms: at(0.5),
        p90_ms: at(0.9),
    })
}

/// An HTTP/2 connection to a gRPC server.
struct Client {
    send: h2::client::SendRequest<Bytes>,
    authority: String,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Result<Client, Error> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (send, connection) = h2::client::handshake(tcp).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Client {
            send,
            authority: addr.to_string(),
        })
    }

    /// One unary call, to the end of its answer; fails unless it answers `grpc-status: 0`.
    async fn call(&mut self, call: &Call<'_>) -> Result<(), Error> {
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{}", self.authority, call.path))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())?;
        let mut send = self.send.clone().ready().await?;
        let (response, mut stream) = send.send_request(request, false)?;
        stream.send_data(frame(call.message), true)?;
        let (head, mut body) = response.await?.into_parts();
        while let Some(chunk) = body.data().await {
            let chunk = chunk?;
            let _ = body.flow_control().release_capacity(chunk.len());
        }
        let trailers = body.trailers().await?;
        // A call that fails at once answers in its headers alone ("Trailers-Only").
        let header = |name: &str| {
            trailers
                .as_ref()
                .and_then(|t| t.get(name))
                .or_else(|| head.headers.get(name))
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        if head.status != http::StatusCode::OK || header("grpc-status") != "0" {
            return Err(format!(
                "{} answered HTTP {}, grpc-status `{}` {}",
                call.path,
                head.status.as_u16(),
                header("grpc-status"),
                header("grpc-message")
            )
            .into());
        }
        Ok(())
    }
}

/// A message as gRPC sends it: not compressed, its length, the message.
fn frame(message: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(message.len() + 5);
    out.push(0);
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gRPC server that answers each call after `delay` with the request's own message, or fails
    /// the method `/lab.Test/Fail`.
    fn server(delay: Duration) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            runtime().unwrap().block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let (tcp, _) = listener.accept().await.unwrap();
                    tokio::spawn(async move {
                        let mut conn = h2::server::handshake(tcp).await.unwrap();
                        while let Some(Ok((request, mut respond))) = conn.accept().await {
                            tokio::spawn(async move {
                                let fail = request.uri().path() == "/lab.Test/Fail";
                                let mut body = request.into_body();
                                let mut got = vec![];
                                while let Some(Ok(chunk)) = body.data().await {
                                    got.extend_from_slice(&chunk);
                                }
                                tokio::time::sleep(delay).await;
                                let head = http::Response::builder()
                                    .header("content-type", "application/grpc")
                                    .body(())
                                    .unwrap();
                                let mut stream = respond.send_response(head, false).unwrap();
                                stream.send_data(got.into(), false).unwrap();
                                let mut trailers = http::HeaderMap::new();
                                let status = if fail { "13" } else { "0" };
                                trailers.insert("grpc-status", status.parse().unwrap());
                                stream.send_trailers(trailers).unwrap();
                            });
                        }
                    });
                }
            });
        });
        addr
    }

    #[test]
    fn calls_one_after_another_and_times_each() {
        let addr = server(Duration::from_millis(20));
        let call = Call {
            addr,
            path: "/lab.Test/Echo",
            message: &[0x0a, 1, 7],
        };
        let slowest = warm_up(&call, 2).unwrap();
        assert!(slowest >= Duration::from_millis(20), "{slowest:?}");
        let m = run(&call, 1).unwrap();
        assert!((10..=50).contains(&m.requests), "{m:?}");
        assert!(m.median_ms >= 20.0 && m.median_ms < 35.0, "{m:?}");
    }

    #[test]
    fn a_failed_call_is_an_error() {
        let call = Call {
            addr: server(Duration::ZERO),
            path: "/lab.Test/Fail",
            message: &[],
        };
        let e = warm_up(&call, 1).unwrap_err().to_string();
        assert!(e.contains("grpc-status `13`"), "{e}");
    }

    #[test]
    fn reads_the_median_and_the_90th_percentile() {
        let took = (1..=10).rev().map(Duration::from_millis).collect();
        assert_eq!(
            distribution(took),
            Some(Latency {
                requests: 10,
                median_ms: 5.0,
                p90_ms: 9.0
            })
        );
        assert_eq!(distribution(vec![]), None);
        assert_eq!(frame(&[7]), Bytes::from_static(&[0, 0, 0, 0, 1, 7]));
    }
}
