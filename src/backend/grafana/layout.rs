//! Where panels go: Grafana's 24-column grid, filled left to right, top to
//! bottom, row by row.
//!
//! Positions and ids are computed here and nowhere else, so no two panels
//! overlap and ids are stable: each row kind owns a block of ids (see
//! [`RowId`]), so adding a panel to one row never renumbers the panels of
//! another and a manifest change touches only the lines it must.

use super::dashboard_json::Text;
use super::dashboard_json::{GridPos, Panel, PanelOrRow, Row, RowKind};

/// Grafana's grid width.
pub const GRID_COLUMNS: u32 = 24;

/// Ids of one row: the row header is `base`, its panels `base + 1...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowId(pub u32);

/// Fills a dashboard's `panels`.
#[derive(Debug, Default)]
pub struct Layout {
    items: Vec<PanelOrRow>,
    /// The top of the next line of panels.
    y: u32,
    /// The next free column on the current line.
    x: u32,
    /// The height of the tallest panel on the current line.
    line_height: u32,
    /// The open row: its index in `items`, whether it is collapsed, the next id.
    row: Option<(usize, bool, u32)>,
    /// Height taken by the panels of an open collapsed row (they do not push
    /// later rows down until the row is opened).
    hidden_y: u32,
}

impl Layout {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a row. Panels added next belong to it.
    pub fn row(&mut self, id: RowId, title: impl Into<Text>, collapsed: bool) {
        self.finish_line();
        self.close_row();
        let y = self.y;
        self.items.push(PanelOrRow::Row(Row {
            kind: RowKind::Row,
            id: id.0,
            title: title.into(),
            collapsed,
            grid_pos: GridPos {
                h: 1,
                w: GRID_COLUMNS,
                x: 0,
                y,
            },
            panels: Vec::new(),
        }));
        self.y += 1;
        self.hidden_y = self.y;
        self.row = Some((self.items.len() - 1, collapsed, id.0 + 1));
    }

    /// Places a panel of `w` columns and `h` grid units after the previous
    /// one, wrapping to a new line when it does not fit, and gives it the
    /// next id of its row.
    pub fn panel(&mut self, mut panel: Panel, w: u32, h: u32) {
        let w = w.clamp(1, GRID_COLUMNS);
        let h = h.max(1);
        if self.x + w > GRID_COLUMNS {
            self.finish_line();
        }
        let collapsed = matches!(self.row, Some((_, true, _)));
        let y = if collapsed { self.hidden_y } else { self.y };
        panel.grid_pos = GridPos { h, w, x: self.x, y };
        self.x += w;
        self.line_height = self.line_height.max(h);
        match &mut self.row {
            Some((index, collapsed, next_id)) => {
                panel.id = *next_id;
                *next_id += 1;
                if *collapsed {
                    if let Some(PanelOrRow::Row(row)) = self.items.get_mut(*index) {
                        row.panels.push(panel);
                    }
                } else {
                    self.items.push(PanelOrRow::Panel(Box::new(panel)));
                }
            }
            None => {
                panel.id = self.items.len() as u32 + 1;
                self.items.push(PanelOrRow::Panel(Box::new(panel)));
            }
        }
    }

    /// Ends the current line: the next panel starts at the left.
    pub fn finish_line(&mut self) {
        if self.x == 0 {
            return;
        }
        if matches!(self.row, Some((_, true, _))) {
            self.hidden_y += self.line_height;
        } else {
            self.y += self.line_height;
        }
        self.x = 0;
        self.line_height = 0;
    }

    fn close_row(&mut self) {
        self.row = None;
    }

    /// The panels, in order.
    pub fn finish(mut self) -> Vec<PanelOrRow> {
        self.finish_line();
        self.items
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::backend::grafana::panels;

    fn boxes(items: &[PanelOrRow]) -> Vec<(u32, GridPos)> {
        items
            .iter()
            .map(|item| match item {
                PanelOrRow::Row(row) => (row.id, row.grid_pos),
                PanelOrRow::Panel(panel) => (panel.id, panel.grid_pos),
            })
            .collect()
    }

    /// No two visible boxes overlap, and every box is inside the grid.
    pub(crate) fn assert_no_overlap(items: &[PanelOrRow]) {
        let visible = boxes(items);
        for (i, (id_a, a)) in visible.iter().enumerate() {
            assert!(a.x + a.w <= GRID_COLUMNS, "panel {id_a} leaves the grid");
            for (id_b, b) in visible.iter().skip(i + 1) {
                let apart =
                    a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
                assert!(apart, "panels {id_a} and {id_b} overlap: {a:?} {b:?}");
            }
        }
        for item in items {
            if let PanelOrRow::Row(row) = item {
                let inner: Vec<PanelOrRow> = row
                    .panels
                    .iter()
                    .cloned()
                    .map(|p| PanelOrRow::Panel(Box::new(p)))
                    .collect();
                assert_no_overlap(&inner);
            }
        }
    }

    #[test]
    fn panels_flow_and_wrap_without_overlap() {
        let mut layout = Layout::new();
        layout.row(RowId(100), "Overview", false);
        for _ in 0..5 {
            layout.panel(panels::text("t", "d", "x"), 8, 6);
        }
        layout.row(RowId(200), "Runtime", true);
        for _ in 0..4 {
            layout.panel(panels::text("t", "d", "x"), 12, 8);
        }
        layout.row(RowId(300), "Logs", false);
        layout.panel(panels::text("t", "d", "x"), 24, 3);
        let items = layout.finish();
        assert_no_overlap(&items);
        let ids: Vec<u32> = boxes(&items).iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [100, 101, 102, 103, 104, 105, 200, 300, 301]);
        // Two lines of three and two panels of height 6 after the row header.
        let PanelOrRow::Row(runtime) = &items[6] else {
            panic!("a row")
        };
        assert_eq!(runtime.grid_pos.y, 13);
        assert_eq!(runtime.panels.len(), 4);
        assert_eq!(
            runtime.panels[3].grid_pos,
            GridPos {
                h: 8,
                w: 12,
                x: 12,
                y: 22
            }
        );
        // A collapsed row's panels do not push the next row down.
        let PanelOrRow::Row(logs) = &items[7] else {
            panic!("a row")
        };
        assert_eq!(logs.grid_pos.y, 14);
    }

    #[test]
    fn an_extra_panel_does_not_renumber_other_rows() {
        let build = |extra: bool| {
            let mut layout = Layout::new();
            layout.row(RowId(100), "A", false);
            layout.panel(panels::text("t", "d", "x"), 8, 6);
            if extra {
                layout.panel(panels::text("t", "d", "x"), 8, 6);
            }
            layout.row(RowId(200), "B", false);
            layout.panel(panels::text("t", "d", "x"), 8, 6);
            boxes(&layout.finish())
                .into_iter()
                .map(|(id, _)| id)
                .collect::<Vec<_>>()
        };
        assert_eq!(build(false), [100, 101, 200, 201]);
        assert_eq!(build(true), [100, 101, 102, 200, 201]);
    }
}
