#pragma once
// Token labels on a plot axis: one label per position when they fit, otherwise every k-th
// position so labels never overlap. Call again whenever the axis range or size changes.
#include <QStringList>
#include <qcustomplot.h>

namespace attnlab::gui {

// Returns true when the labels changed (the caller replots).
bool update_token_ticks(QCPAxis* axis, const QStringList& labels);

// "12:«the»": position and token, never a bare id.
QString token_tick_label(int position, const QString& token);

// Pixels one label needs along the axis (its font height when rotated or vertical, with a gap).
int token_label_pitch(const QCPAxis* axis);

}  // namespace attnlab::gui
