use super::*;

#[test]
fn the_hash_depends_on_every_field_and_on_order() {
    let p = PeerId::random();
    let run = |events: &[(u64, NodeId, &'static str, bool)]| {
        let t = Trace::hash_only();
        for (ms, node, kind, with_peer) in events {
            let peer = with_peer.then_some(&p);
            t.borrow_mut()
                .record(Duration::from_millis(*ms), *node, kind, peer, String::new);
        }
        t.borrow().hash()
    };
    let base = [(1, 0, "join", false), (2, 1, "dialing", true)];
    assert_eq!(run(&base), run(&base));
    assert_ne!(run(&base), run(&[base[1], base[0]]));
    assert_ne!(
        run(&base),
        run(&[(1, 0, "join", false), (3, 1, "dialing", true)])
    );
    assert_ne!(
        run(&base),
        run(&[(1, 0, "join", false), (2, 2, "dialing", true)])
    );
    assert_ne!(
        run(&base),
        run(&[(1, 0, "join", false), (2, 1, "dialing", false)])
    );
    assert_ne!(
        run(&base),
        run(&[(1, 0, "join", false), (2, 1, "leave", true)])
    );
}

#[test]
fn filters_parse_nodes_ranges_and_kinds() {
    let f = TraceFilter::parse("3, 5-7,connection_closed").unwrap();
    assert_eq!(f.nodes, Some([3, 5, 6, 7].into_iter().collect()));
    assert_eq!(f.kinds, Some(["connection_closed".to_string()].into()));
    assert!(f.keeps(6, "connection_closed"));
    assert!(!f.keeps(4, "connection_closed"));
    assert!(!f.keeps(6, "join"));
    let kinds_only = TraceFilter::parse("join,leave").unwrap();
    assert_eq!(kinds_only.nodes, None);
    assert!(kinds_only.keeps(99, "leave"));
    let err = TraceFilter::parse("conection_closed").unwrap_err();
    assert!(err.contains("connection_closed"), "{err}");
    assert!(TraceFilter::parse("9-2").is_err());
}

#[test]
fn the_file_holds_filtered_complete_lines() {
    let dir = std::env::temp_dir().join("libp2p-sim-trace-test");
    let _ = std::fs::remove_dir_all(&dir);
    let t = Trace::to_dir(&dir, TraceFilter::parse("1").unwrap()).unwrap();
    for node in 0..3 {
        t.borrow_mut()
            .record(Duration::from_micros(1500), node, "join", None, || {
                "a, b".into()
            });
    }
    assert!(!dir.join("events.csv").exists(), "not before finish");
    let path = t.borrow_mut().finish().unwrap().unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text,
        "seq,time_us,node,kind,peer,details\n1,1500,1,join,,\"a, b\"\n"
    );
    assert_eq!(t.borrow().events(), 3);
}

#[test]
fn compare_traces_names_the_first_differing_event() {
    let compare = |a: &str, b: &str| compare_traces(a.as_bytes(), b.as_bytes()).unwrap();
    let a = "seq,kind,details\n0,start,\"x,\ny\"\n1,crash,\n";
    assert_eq!(compare(a, a), TraceDiff::Same { events: 2 });
    assert_eq!(
        compare(a, "seq,kind,details\n0,start,\"x,\ny\"\n1,stop,\n"),
        TraceDiff::Differ {
            seq: 1,
            a: "1,crash,".to_string(),
            b: "1,stop,".to_string()
        }
    );
    assert_eq!(
        compare(a, "seq,kind,details\n0,start,\"x,\ny\"\n"),
        TraceDiff::Differ {
            seq: 1,
            a: "1,crash,".to_string(),
            b: "(no more events)".to_string()
        }
    );
    // A difference inside a quoted, multi-line field is one event.
    assert_eq!(
        compare(a, "seq,kind,details\n0,start,\"x,\nz\"\n1,crash,\n"),
        TraceDiff::Differ {
            seq: 0,
            a: "0,start,\"x,\ny\"".to_string(),
            b: "0,start,\"x,\nz\"".to_string()
        }
    );
}

#[test]
fn details_with_commas_quotes_and_line_breaks_read_back_exactly() {
    let dir = std::env::temp_dir().join("libp2p-sim-trace-details-test");
    let _ = std::fs::remove_dir_all(&dir);
    let details = "dial to /memory/7 failed: \"refused\", then\nretried,\r\nonce";
    let peer = PeerId::random();
    let t = Trace::to_dir(&dir, TraceFilter::default()).unwrap();
    for (node, text) in [(2, details), (3, "plain")] {
        t.borrow_mut().record(
            Duration::from_micros(42),
            node,
            "dial_error",
            Some(&peer),
            || text.into(),
        );
    }
    let path = t.borrow_mut().finish().unwrap().unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = crate::csvfile::reader(&text);
    assert_eq!(
        reader.headers().unwrap(),
        vec!["seq", "time_us", "node", "kind", "peer", "details"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let peer = peer.to_string();
    assert_eq!(rows[0], vec!["0", "42", "2", "dial_error", &peer, details]);
    assert_eq!(rows[1], vec!["1", "42", "3", "dial_error", &peer, "plain"]);
}

/// The places of `(ms, node, kind)` events, in that order.
fn places_of(events: &[(u64, NodeId, &str)]) -> Vec<Place> {
    events
        .iter()
        .map(|(ms, node, kind)| Place::new(Duration::from_millis(*ms), *node, kind, None))
        .collect()
}

#[test]
fn merged_places_are_in_time_node_and_per_node_order() {
    // Node 0 and 2 run in worker 0, node 1 in worker 1.
    let w0 = places_of(&[
        (5, 2, "join"),
        (5, 0, "join"),
        (5, 0, "dialing"),
        (9, 0, "leave"),
    ]);
    let w1 = places_of(&[(1, 1, "join"), (5, 1, "dialing"), (7, 1, "leave")]);
    let merged = places::merge(&[w0.clone(), w1.clone()]);
    assert_eq!(merged.events, 7);
    // 1:n1 join, 5:n0 join, 5:n0 dialing, 5:n1 dialing, 5:n2 join, 7:n1, 9:n0
    assert_eq!(merged.position, vec![vec![4, 1, 2, 6], vec![0, 3, 5]]);
    // The hash is FNV-1a over (time ns, node, digest) in that order.
    let all = [&w1[0], &w0[1], &w0[2], &w1[1], &w0[0], &w1[2], &w0[3]];
    let mut bytes = Vec::new();
    for p in all {
        bytes.extend(p.at_ns.to_le_bytes());
        bytes.extend(p.node.to_le_bytes());
        bytes.extend(p.digest.to_le_bytes());
    }
    assert_eq!(merged.hash, format!("{:016x}", fnv(FNV_OFFSET, &bytes)));
    // Which worker ran what does not matter, only the events do.
    let moved = places::merge(&[w1.clone(), w0.clone()]);
    assert_eq!(moved.hash, merged.hash);
    let mut other = w1.clone();
    other[2] = Place::new(Duration::from_millis(7), 1, "crash", None);
    assert_ne!(places::merge(&[w0, other]).hash, merged.hash);
}

#[test]
fn a_trace_keeps_places_and_they_survive_a_file() {
    let t = Trace::hash_only();
    assert_eq!(t.borrow_mut().take_places(), None, "not kept unless asked");
    t.borrow_mut().keep_places();
    let peer = PeerId::random();
    t.borrow_mut().record(
        Duration::from_nanos(1_500),
        3,
        "dialing",
        Some(&peer),
        String::new,
    );
    t.borrow_mut()
        .record(Duration::from_millis(2), 4, "join", None, String::new);
    let kept = t.borrow_mut().take_places().unwrap();
    assert_eq!(
        kept,
        vec![
            Place {
                at_ns: 1_500,
                node: 3,
                digest: places::digest("dialing", Some(&peer))
            },
            Place::new(Duration::from_millis(2), 4, "join", None),
        ]
    );
    assert_ne!(kept[0].digest, places::digest("dialing", None));
    let dir = std::env::temp_dir().join("libp2p-sim-places-test");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("places.bin");
    places::write(&path, &kept).unwrap();
    assert_eq!(places::read(&path).unwrap(), kept);
    std::fs::write(&path, [0u8; 7]).unwrap();
    assert!(places::read(&path).is_err(), "a torn file is refused");
}

#[test]
fn merged_files_follow_the_merged_order_and_renumber_seq() {
    let dir = std::env::temp_dir().join("libp2p-sim-merge-files-test");
    let _ = std::fs::remove_dir_all(&dir);
    let w0 = places_of(&[(5, 0, "join"), (8, 0, "leave")]);
    let w1 = places_of(&[(1, 1, "join"), (5, 1, "dialing"), (9, 1, "leave")]);
    let mut files = Vec::new();
    for (w, (places, filter)) in [(&w0, "0-9"), (&w1, "join,leave")].into_iter().enumerate() {
        let wdir = dir.join(w.to_string());
        let t = Trace::to_dir(&wdir, TraceFilter::parse(filter).unwrap()).unwrap();
        for p in places.iter() {
            let kind = ["join", "dialing", "leave"]
                .into_iter()
                .find(|k| places::digest(k, None) == p.digest)
                .unwrap();
            t.borrow_mut()
                .record(Duration::from_nanos(p.at_ns), p.node, kind, None, || {
                    format!("w{w}, \"quoted\"")
                });
        }
        files.push(t.borrow_mut().finish().unwrap().unwrap());
    }
    let merged = places::merge(&[w0, w1]);
    let out = places::merge_files(&files, &merged, &dir.join("events.csv")).unwrap();
    let text = std::fs::read_to_string(out).unwrap();
    // Worker 1's filter left out its dialing (merged position 2).
    assert_eq!(
        text,
        "seq,time_us,node,kind,peer,details\n\
         0,1000,1,join,,\"w1, \"\"quoted\"\"\"\n\
         1,5000,0,join,,\"w0, \"\"quoted\"\"\"\n\
         3,8000,0,leave,,\"w0, \"\"quoted\"\"\"\n\
         4,9000,1,leave,,\"w1, \"\"quoted\"\"\"\n"
    );
}
